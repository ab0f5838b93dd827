package tui

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

func bindingID(b key.Binding) string { return fmt.Sprint(b.Keys(), b.Help()) }

// TestHelpListsEveryBinding: the `?` page lists every binding of the
// KeyMap exactly once, and nothing else.
func TestHelpListsEveryBinding(t *testing.T) {
	k := DefaultKeyMap()
	want := map[string]string{}
	v := reflect.ValueOf(k)
	for i := range v.NumField() {
		b, ok := v.Field(i).Interface().(key.Binding)
		if !ok {
			t.Fatalf("KeyMap.%s is a %s, not a key.Binding", v.Type().Field(i).Name, v.Field(i).Type())
		}
		want[bindingID(b)] = v.Type().Field(i).Name
	}
	seen := map[string]bool{}
	for _, col := range k.FullHelp() {
		for _, b := range col {
			id := bindingID(b)
			if _, ok := want[id]; !ok {
				t.Errorf("the help lists %s, which is not in the KeyMap", id)
			}
			if seen[id] {
				t.Errorf("the help lists %s twice", id)
			}
			seen[id] = true
		}
	}
	for id, name := range want {
		if !seen[id] {
			t.Errorf("the help does not list KeyMap.%s %s", name, id)
		}
	}
}

// helpKeys maps the glyphs and short names the help shows to key names.
var helpKeys = map[string]string{"↑": "up", "↓": "down", "←": "left", "→": "right", "pgdn": "pgdown"}

// TestHelpNamesOnlyBoundKeys: every key the `?` page or a hint line names
// is a key its binding matches, in every mode of the hint line.
func TestHelpNamesOnlyBoundKeys(t *testing.T) {
	check := func(where string, bs []key.Binding) {
		for _, b := range bs {
			names := strings.Split(b.Help().Key, "/")
			if slices.Contains(b.Keys(), b.Help().Key) {
				names = []string{b.Help().Key} // the key is "/" itself
			}
			for _, name := range names {
				if n, ok := helpKeys[name]; ok {
					name = n
				}
				if !slices.Contains(b.Keys(), name) {
					t.Errorf("%s: %q is shown for %q, which is bound to %v", where, name, b.Help().Desc, b.Keys())
				}
			}
		}
	}
	for _, col := range DefaultKeyMap().FullHelp() {
		check("help", col)
	}
	for _, mode := range []string{"", "r", "i", "n"} {
		m := newLiveModel(100, 30, Config{})
		if mode != "" {
			m.Update(press(mode))
		}
		check("hint line after "+mode, m.hints())
	}
}

// keyUniverse is every key a test presses to find what acts: printable
// ASCII, the named keys and ctrl with a letter.
func keyUniverse() []tea.KeyPressMsg {
	var ks []tea.KeyPressMsg
	for r := rune(0x21); r < 0x7f; r++ {
		ks = append(ks, tea.KeyPressMsg{Code: r, Text: string(r)})
	}
	for _, c := range []rune{tea.KeyEnter, tea.KeyEscape, tea.KeyTab, tea.KeyUp, tea.KeyDown, tea.KeyLeft, tea.KeyRight,
		tea.KeyPgUp, tea.KeyPgDown, tea.KeyHome, tea.KeyEnd, tea.KeyBackspace, tea.KeyDelete, tea.KeyInsert, tea.KeyF1} {
		ks = append(ks, tea.KeyPressMsg{Code: c})
	}
	ks = append(ks, tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}, tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift})
	for r := 'a'; r <= 'z'; r++ {
		ks = append(ks, tea.KeyPressMsg{Code: r, Mod: tea.ModCtrl})
	}
	return ks
}

// TestOnlyBoundKeysAct presses every key of keyUniverse on the stream of a
// live screen: each key that changes the screen or starts a command is
// bound in the KeyMap, so the help leaves out no key that acts.
func TestOnlyBoundKeysAct(t *testing.T) {
	bound := map[string]bool{}
	for _, col := range DefaultKeyMap().FullHelp() {
		for _, b := range col {
			for _, k := range b.Keys() {
				bound[k] = true
			}
		}
	}
	acted := 0
	for _, k := range keyUniverse() {
		m := newLiveModel(100, 30, Config{})
		m.Update(press("up")) // off the bottom, so that moving down acts too
		before := m.View().Content
		_, cmd := m.Update(k)
		if cmd == nil && m.View().Content == before {
			continue
		}
		acted++
		if !bound[k.String()] {
			t.Errorf("%q acts on the stream but no binding in the help names it", k.String())
		}
	}
	if acted < len(bound)/2 {
		t.Fatalf("only %d keys acted: the test presses keys the screen does not see", acted)
	}
}
