package tui

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// query is a parsed filter: space-separated terms that must all match. A
// term is `target:X`, `conn:X`, `user:X` or plain text, which matches any of
// them or the message's payload. Matching ignores ASCII case.
type query struct {
	raw   string
	terms []term
}

type term struct {
	field string // "", "target", "conn", "user"
	text  string // lower-cased
}

func parseQuery(s string) query {
	q := query{raw: strings.TrimSpace(s)}
	for _, w := range strings.Fields(s) {
		t := term{text: strings.ToLower(w)}
		if f, v, ok := strings.Cut(w, ":"); ok && v != "" {
			switch strings.ToLower(f) {
			case "target", "t":
				t = term{field: "target", text: strings.ToLower(v)}
			case "conn", "connection", "c":
				t = term{field: "conn", text: strings.ToLower(v)}
			case "user", "u":
				t = term{field: "user", text: strings.ToLower(v)}
			}
		}
		q.terms = append(q.terms, t)
	}
	return q
}

func (q query) active() bool { return len(q.terms) > 0 }

func (q query) equal(o query) bool {
	if len(q.terms) != len(o.terms) {
		return false
	}
	for i := range q.terms {
		if q.terms[i] != o.terms[i] {
			return false
		}
	}
	return true
}

// match reports whether e, received on c, matches every term; target is
// the target its row shows. A record that failed to parse matches on the
// parser's text and the record.
func (q query) match(e *entry, c *conn, target string) bool {
	if e == nil {
		return false
	}
	for _, t := range q.terms {
		ok := false
		switch t.field {
		case "target":
			ok = containsFold(target, t.text)
		case "conn":
			ok = containsFold(c.label, t.text) || containsFold(c.connectionID, t.text)
		case "user":
			ok = containsFold(c.who(), t.text) || containsFold(c.user, t.text)
		default:
			ok = containsFold(target, t.text) || containsFold(c.label, t.text) ||
				containsFold(c.who(), t.text) || containsFoldBytes(e.msg.Arguments, t.text) ||
				containsFoldBytes(e.msg.Item, t.text) || containsFoldBytes(e.msg.Result, t.text) ||
				containsFold(e.msg.Error, t.text) || (e.failed && containsFoldBytes(e.raw, t.text))
		}
		if !ok {
			return false
		}
	}
	return true
}

func containsFold(s, lowerNeedle string) bool {
	return indexFold(s, lowerNeedle)
}

func containsFoldBytes(b []byte, lowerNeedle string) bool {
	if len(b) == 0 {
		return false
	}
	if !isASCII(lowerNeedle) {
		return bytes.Contains(bytes.ToLower(b), []byte(lowerNeedle))
	}
	return indexFold(b, lowerNeedle)
}

// indexFold reports whether h contains the ASCII needle, ignoring ASCII
// case, without allocating: the filter scans the whole history on each
// keystroke.
func indexFold[S string | []byte](h S, needle string) bool {
	n := len(needle)
	if n == 0 {
		return true
	}
	if !isASCII(needle) {
		return strings.Contains(strings.ToLower(string(h)), needle)
	}
	first := needle[0]
	for i := 0; i+n <= len(h); i++ {
		if lower(h[i]) != first {
			continue
		}
		j := 1
		for j < n && lower(h[i+j]) == needle[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
