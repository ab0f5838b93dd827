package hostile

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// row is one hostile input: what it sends, what sigr must do, and the
// check that proves it. The README's Security section is generated from
// these rows (TestSecurityTable), so the table and the tests cannot drift.
type row struct {
	area    string // who is attacked: emulator wire, tokens, REST, negotiate, client, TUI, load
	input   string // what the hostile side does
	outcome string // what sigr does
	check   func(t *testing.T, e *env)
}

// table is the whole campaign, in the order of the Security section.
func table() []row {
	var all []row
	for _, part := range [][]row{wireRows(), tokenRows(), restRows(), negotiateRows(), clientRows(), tuiRows(), loadRows()} {
		all = append(all, part...)
	}
	return all
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// name is the subtest name of a row: area/first words of the input.
func (r row) name() string {
	words := strings.Fields(strings.ToLower(r.input))
	if len(words) > 6 {
		words = words[:6]
	}
	area := strings.Trim(nonWord.ReplaceAllString(strings.ToLower(r.area), "_"), "_")
	return area + "/" + strings.Trim(nonWord.ReplaceAllString(strings.Join(words, "_"), "_"), "_")
}

// TestHostile runs every row against real loopback servers.
func TestHostile(t *testing.T) {
	e := &env{t: t}
	defer e.close()
	for _, r := range table() {
		t.Run(r.name(), func(t *testing.T) { r.check(t, e) })
	}
}

// TestSecurityTable writes the README's Security table to the file named
// by $SIGR_SECURITY_MD when set; otherwise it checks that every row names
// its input and outcome and that names are unique.
func TestSecurityTable(t *testing.T) {
	seen := map[string]bool{}
	var b strings.Builder
	b.WriteString("| # | area | hostile input | what sigr does | test |\n|---|---|---|---|---|\n")
	for i, r := range table() {
		if r.input == "" || r.outcome == "" || r.check == nil {
			t.Errorf("row %d (%s) is incomplete", i, r.area)
		}
		if seen[r.name()] {
			t.Errorf("two rows are named %s", r.name())
		}
		seen[r.name()] = true
		fmt.Fprintf(&b, "| %d | %s | %s | %s | `TestHostile/%s` |\n", i+1, r.area, mdEscape(r.input), mdEscape(r.outcome), r.name())
	}
	if p := os.Getenv("SIGR_SECURITY_MD"); p != "" {
		if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
