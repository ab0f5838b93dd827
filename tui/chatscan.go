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
func chatObject(b []byte, i int) (chatContent, bool) {
	c, ok := scanChatObject(b, i)
	if !ok {
		return chatContent{}, false
	}
	return c, true
}

func scanChatObject(b []byte, i int) (c chatContent, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return c, false
	}
	i++
	hasText := false
	for {
		i = skipSpace(b, i)
		if i >= len(b) {
			return c, false
		}
		switch b[i] {
		case '}':
			return c, hasText
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
			v, end, okVal := jsonString(b, i)
			if !okVal {
				return c, false
			}
			i = end
			switch {
			case nameIs(name, "sender"):
				c.sender = v
			case nameIs(name, "text"):
				c.text, hasText = v, true
			case nameIs(name, "recipient"):
				c.recipient = v
			case nameIs(name, "groupname"):
				c.group = v
			case nameIs(name, "connectionId"):
				c.connectionID = v
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

// jsonString decodes the string at b[i] and returns it and the index after
// it. Strings without escapes, nearly all of them, cost one copy.
func jsonString(b []byte, i int) (string, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return "", i, false
	}
	escaped := false
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return string(b[i+1 : j]), j + 1, true
			}
			var s string
			if json.Unmarshal(b[i:j+1], &s) != nil {
				return "", i, false
			}
			return s, j + 1, true
		}
	}
	return "", i, false
}

// skipJSONValue returns the index after the value at b[i], or -1.
func skipJSONValue(b []byte, i int) int {
	depth := 0
	for i < len(b) {
		switch c := b[i]; c {
		case '"':
			_, end, ok := jsonString(b, i)
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
