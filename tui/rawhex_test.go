package tui

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestRecordProtocol(t *testing.T) {
	for raw, want := range map[string]string{
		`{"type":6}`:       "json",
		" \n{}":            "json",
		"":                 "json",
		"\x91\x06":         "messagepack",
		"\x95\x01\x80\xc0": "messagepack",
	} {
		if got := recordProtocol([]byte(raw)); got != want {
			t.Errorf("recordProtocol(%q) = %s, want %s", raw, got, want)
		}
	}
}

// TestRawHexSection: a MessagePack record is shown as hex with offsets,
// so none of its bytes reaches the terminal.
func TestRawHexSection(t *testing.T) {
	raw := []byte("\x96\x01\x80\xc0\xa3\x1b]0\x07\x90\x90\x00\x01\x02\x03\x04\x05\x06\x07")
	lines := rawHexSection(DefaultStyles(true), raw, 80)
	got := ansi.Strip(strings.Join(lines, "\n"))
	want := "\nRAW RECORD (MessagePack, hex)\n" +
		"  0000  96 01 80 c0 a3 1b 5d 30 07 90 90 00 01 02 03 04\n" +
		"  0010  05 06 07"
	if got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
}
