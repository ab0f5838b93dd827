package tui

import (
	"encoding/hex"
	"strings"
)

// recordProtocol names the hub protocol a raw record was written in: a
// JSON record is an object; anything else a connection receives is a
// MessagePack record (an array after its length prefix was cut off).
func recordProtocol(raw []byte) string {
	for _, c := range raw {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return "json"
		}
		return "messagepack"
	}
	return "json"
}

// rawHexSection is a MessagePack record as hex, 16 bytes a line with their
// offset, since its bytes are not text.
func rawHexSection(s *Styles, raw []byte, w int) []string {
	lines := []string{"", s.Section.Render("RAW RECORD (MessagePack, hex)")}
	per := 16
	if w < 60 {
		per = 8
	}
	for off := 0; off < len(raw); off += per {
		row := raw[off:min(off+per, len(raw))]
		var b strings.Builder
		b.WriteString(hex.EncodeToString([]byte{byte(off >> 8), byte(off)}))
		b.WriteString("  ")
		for i, c := range row {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(hex.EncodeToString([]byte{c}))
		}
		lines = append(lines, "  "+s.Muted.Render(b.String()))
	}
	return lines
}
