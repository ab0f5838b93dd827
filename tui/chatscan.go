package tui

import (
	"encoding/json"
	"strings"
)

// The chat view reads the author and text of every new message, so its
// reading of the first argument skips encoding/json's reflection: it
// walks the object once and decodes only the string members it needs.
// The record has been parsed as JSON already; anything unexpected here
// simply reads as "not a chat message".

// chatObject reads the object at b[i], the first argument of a chat
// message: its string members sender, text, recipient, groupname and
// connectionId (names matched ignoring case, as encoding/json does). ok is
// false unless it is an object with a string text, and when sender or
// text is not a string.
func chatObject(b []byte, i int) (c chatContent, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return c, false
	}
	i++
	hasText := false
	var sender, text jsonSpan
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return c, false
		}
		switch b[i] {
		case '}':
			if !hasText {
				return c, false
			}
			c.sender, c.text, ok = chatStrings(b, sender, text)
			return c, ok
		case ',':
			i++
			continue
		}
		name, end, okName := jsonName(b, i)
		if !okName {
			return c, false
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return c, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '"' {
			start := i
			end, escaped, okVal := jsonStringEnd(b, i)
			if !okVal {
				return c, false
			}
			i = end
			// Sender and text are decoded once the object is read, in
			// one allocation (chatStrings); the rest are rare, and
			// members no one reads are not decoded at all.
			var dst *string
			switch {
			case nameIs(name, "sender"):
				sender = jsonSpan{start, end, escaped}
				continue
			case nameIs(name, "text"):
				text, hasText = jsonSpan{start, end, escaped}, true
				continue
			case nameIs(name, "recipient"):
				dst = &c.recipient
			case nameIs(name, "groupname"):
				dst = &c.group
			case nameIs(name, "connectionId"):
				dst = &c.connectionID
			default:
				continue
			}
			if *dst, _, okVal = jsonString(b, start); !okVal {
				return c, false
			}
			continue
		}
		if nameIs(name, "sender") || nameIs(name, "text") {
			if !jsonNull(b, i) {
				return c, false
			}
		}
		if i = skipJSONValue(b, i); i < 0 {
			return c, false
		}
	}
}

// jsonName returns the member name at b[i] and the index after it: the
// bytes as written when there is no escape, so that reading a name costs
// no allocation (a chat message has three).
func jsonName(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			s, end, ok := jsonString(b, i)
			return []byte(s), end, ok
		case '"':
			return b[i+1 : j], j + 1, true
		}
	}
	return nil, i, false
}

// nameIs reports whether name is want ignoring case, as strings.EqualFold
// (and encoding/json) match it.
func nameIs(name []byte, want string) bool {
	if len(name) != len(want) {
		// A name with non-ASCII letters may fold to want at another length.
		for _, c := range name {
			if c >= 0x80 {
				return strings.EqualFold(string(name), want)
			}
		}
		return false
	}
	for k, c := range name {
		if c >= 0x80 {
			return strings.EqualFold(string(name), want)
		}
		w := want[k]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= w && w <= 'Z' {
			w += 'a' - 'A'
		}
		if c != w {
			return false
		}
	}
	return true
}

func jsonNull(b []byte, i int) bool { return len(b)-i >= 4 && string(b[i:i+4]) == "null" }

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// jsonSpan is where a JSON string is in the body, quotes included (end is
// the index after it), and whether it holds an escape; a zero span is no
// string.
type jsonSpan struct {
	start, end int
	escaped    bool
}

// maxChatGap bounds what may lie between a chat message's sender and text
// (the separator and another member name) for the two to be copied out
// together.
const maxChatGap = 64

// chatStrings decodes a chat message's sender and text. A message's two
// strings, unescaped and close together as the samples write them, are
// copied out at once, the bytes between included: one allocation instead
// of two for every chat message of a flood.
func chatStrings(b []byte, sender, text jsonSpan) (string, string, bool) {
	if sender.end > 0 && !sender.escaped && !text.escaped {
		lo, hi := min(sender.start, text.start)+1, max(sender.end, text.end)-1
		if gap := (hi - lo) - (sender.end - sender.start - 2) - (text.end - text.start - 2); gap <= maxChatGap {
			all := string(b[lo:hi])
			return all[sender.start+1-lo : sender.end-1-lo], all[text.start+1-lo : text.end-1-lo], true
		}
	}
	var s, t string
	ok := true
	if sender.end > 0 {
		s, _, ok = jsonString(b, sender.start)
	}
	if ok {
		t, _, ok = jsonString(b, text.start)
	}
	return s, t, ok
}

// jsonStringEnd returns the index after the string at b[i] and whether it
// holds an escape, without decoding it.
func jsonStringEnd(b []byte, i int) (end int, escaped, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false, false
	}
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped, true
		}
	}
	return i, false, false
}

// jsonString decodes the string at b[i] and returns it and the index after
// it. Strings without escapes, nearly all of them, cost one copy.
func jsonString(b []byte, i int) (string, int, bool) {
	end, escaped, ok := jsonStringEnd(b, i)
	if !ok {
		return "", i, false
	}
	if !escaped {
		return string(b[i+1 : end-1]), end, true
	}
	var s string
	if json.Unmarshal(b[i:end], &s) != nil {
		return "", i, false
	}
	return s, end, true
}

// skipJSONValue returns the index after the value at b[i], or -1.
func skipJSONValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			end, _, ok := jsonStringEnd(b, i)
			if !ok {
				return -1
			}
			i = end
			if depth == 0 {
				return i
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case ',', ' ', '\t', '\n', '\r', ':':
			if depth == 0 {
				return i
			}
		}
		i++
	}
	if depth == 0 {
		return i
	}
	return -1
}
