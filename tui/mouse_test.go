package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

func click(x, y int) tea.MouseClickMsg {
	return tea.MouseClickMsg{X: x, Y: y, Button: tea.MouseLeft}
}

// TestClickSelects: a click selects the stream row, the connection or the
// target under it, and enter then acts on what it selected.
func TestClickSelects(t *testing.T) {
	m := newLiveModel(120, 35, Config{})
	sw := m.sidebarWidth()
	lines := strings.Split(ansi.Strip(m.render()), "\n")

	// The fourth stream row: status line, stream header, three rows above.
	m.Update(click(sw+10, 5))
	if m.focus != focusStream || m.stream.follow {
		t.Fatalf("after a click on a row: focus %d, following %v", m.focus, m.stream.follow)
	}
	if got := m.stream.selected(); got == nil || !strings.Contains(lines[5], got.time.In(m.com.loc).Format("15:04:05")+" "+m.stream.receivers(got, m.roster.shortLabels())) {
		t.Fatalf("selected %+v, clicked on %q", got, lines[5])
	}

	// The sidebar: bob's line.
	for y, l := range lines {
		if y > 0 && strings.HasPrefix(strings.TrimSpace(l), "● bob") {
			m.Update(click(2, y))
			break
		}
	}
	if m.focus != focusSidebar || m.roster.selected().label != "bob@chat" {
		t.Fatalf("after a click on bob: focus %d, selected %s", m.focus, m.roster.selected().label)
	}

	// TARGETS: priceTick's line, then enter filters by it.
	for y, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "priceTick") {
			m.Update(click(2, y))
			break
		}
	}
	m.Update(press("enter"))
	if m.stream.query.raw != "target:priceTick" {
		t.Fatalf("enter after a click on priceTick: filter %q", m.stream.query.raw)
	}

	// Clicks on the status line, the composer or under an overlay do nothing.
	m.Update(press("?"))
	m.Update(click(2, 2))
	if m.overlay != overlayHelp {
		t.Fatal("a click under the help closed it")
	}
}
