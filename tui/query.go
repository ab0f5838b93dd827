package tui

import (
	"bytes"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// query is a parsed filter: alternatives separated by `|` or ` OR `, each
// of space-separated terms that must all match. A term is `target:X`,
// `conn:X`, `user:X`, `route:X` or plain text, which matches any of them
// or the message's payload; `!` before a term negates it. Matching ignores
// ASCII case.
type query struct {
	raw  string
	alts [][]term
}

type term struct {
	field string // "", "target", "conn", "user", "route"
	text  string // lower-cased
	neg   bool
}

// orWord separates alternatives, as | does.
const orWord = " OR "

func parseQuery(s string) query {
	q := query{raw: strings.TrimSpace(s)}
	for _, alt := range strings.Split(strings.ReplaceAll(s, orWord, "|"), "|") {
		var terms []term
		for _, w := range strings.Fields(alt) {
			if t, ok := parseTerm(w); ok {
				terms = append(terms, t)
			}
		}
		if len(terms) > 0 {
			q.alts = append(q.alts, terms)
		}
	}
	return q
}

// parseTerm reads one word of a filter; a lone ! is nothing.
func parseTerm(w string) (term, bool) {
	neg := strings.HasPrefix(w, "!")
	w = strings.TrimPrefix(w, "!")
	if w == "" {
		return term{}, false
	}
	t := term{text: strings.ToLower(w), neg: neg}
	if f, v, ok := strings.Cut(w, ":"); ok && v != "" {
		switch strings.ToLower(f) {
		case "target", "t":
			t.field = "target"
		case "conn", "connection", "c":
			t.field = "conn"
		case "user", "u":
			t.field = "user"
		case "route", "r":
			t.field = "route"
		}
		if t.field != "" {
			t.text = strings.ToLower(v)
		}
	}
	return t, true
}

func (q query) active() bool { return len(q.alts) > 0 }

func (q query) equal(o query) bool {
	return slices.EqualFunc(q.alts, o.alts, func(a, b []term) bool { return slices.Equal(a, b) })
}

// match reports whether e, received on c, matches every term; target is
// the target its row shows. A record that failed to parse matches on the
// parser's text and the record.
func (q query) match(e *entry, c *conn, target, route string) bool {
	if e == nil {
		return false
	}
	for _, alt := range q.alts {
		if allMatch(alt, e, c, target, route) {
			return true
		}
	}
	return false
}

// allMatch reports whether e matches every term of one alternative.
func allMatch(terms []term, e *entry, c *conn, target, route string) bool {
	for _, t := range terms {
		ok := false
		switch t.field {
		case "target":
			ok = containsFold(target, t.text)
		case "conn":
			ok = containsFold(c.label, t.text) || containsFold(c.connectionID, t.text)
		case "user":
			ok = containsFold(c.who(), t.text) || containsFold(c.user, t.text)
		case "route":
			ok = containsFold(route, t.text)
		default:
			ok = containsFold(target, t.text) || containsFold(route, t.text) || containsFold(c.label, t.text) ||
				containsFold(c.who(), t.text) || containsFoldBytes(e.msg.Arguments, t.text) ||
				containsFoldBytes(e.msg.Item, t.text) || containsFoldBytes(e.msg.Result, t.text) ||
				containsFold(e.msg.Error, t.text) || (e.failed && containsFoldBytes(e.raw, t.text)) ||
				(e.gap != nil && containsFold(e.gap.text(e.time, time.UTC), t.text))
		}
		if ok == t.neg {
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
