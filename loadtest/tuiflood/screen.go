package main

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// screen is the text a terminal of w×h cells would show after the bytes
// written to it, without colours. A renderer that diffs its frames writes
// only the cells that changed, with cursor moves, scrolls and repeats
// between them, so the only reliable way to know what the user sees is to
// replay the stream on a grid. It implements what Ultraviolet's renderer
// emits (cursor motion, erases, inserts and deletes, scroll regions,
// repeat, autowrap); other sequences are skipped.
type screen struct {
	w, h         int
	cells        [][]rune
	x, y         int
	wrapNext     bool // the last write filled the line; the next one wraps
	noWrap       bool // DECAWM reset
	top, bot     int  // scroll region, inclusive
	last         rune // for REP
	savedX       int
	savedY       int
	pending      []byte // an incomplete sequence or rune from the last write
	dirty        bool
	cachedString []string
}

func newScreen(w, h int) *screen {
	s := &screen{w: w, h: h, bot: h - 1}
	s.cells = make([][]rune, h)
	for i := range s.cells {
		s.cells[i] = blankLine(w)
	}
	return s
}

func blankLine(w int) []rune {
	l := make([]rune, w)
	for i := range l {
		l[i] = ' '
	}
	return l
}

// Write replays p; a sequence cut at the end waits for the next write.
func (s *screen) Write(p []byte) (int, error) {
	n := len(p)
	if len(s.pending) > 0 {
		p = append(s.pending, p...)
		s.pending = nil
	}
	s.dirty = true
	for len(p) > 0 {
		c := p[0]
		switch {
		case c == 0x1b:
			k := s.escape(p)
			if k == 0 {
				s.pending = append([]byte(nil), p...)
				return n, nil
			}
			p = p[k:]
		case c < 0x20 || c == 0x7f:
			s.control(c)
			p = p[1:]
		default:
			if !utf8.FullRune(p) {
				s.pending = append([]byte(nil), p...)
				return n, nil
			}
			r, k := utf8.DecodeRune(p)
			s.print(r)
			p = p[k:]
		}
	}
	return n, nil
}

// escape handles the sequence at the start of p and returns its length, 0
// when it is incomplete.
func (s *screen) escape(p []byte) int {
	if len(p) < 2 {
		return 0
	}
	switch p[1] {
	case '[':
		for i := 2; i < len(p); i++ {
			if p[i] >= 0x40 && p[i] <= 0x7e {
				s.csi(string(p[2:i]), p[i])
				return i + 1
			}
		}
		return 0
	case ']', 'P', '_', '^', 'X':
		// A string ends with BEL or ST (ESC \).
		for i := 2; i < len(p); i++ {
			if p[i] == 0x07 {
				return i + 1
			}
			if p[i] == 0x1b && i+1 < len(p) && p[i+1] == '\\' {
				return i + 2
			}
		}
		return 0
	case '(', ')', '*', '+', '#', ' ', '%':
		if len(p) < 3 {
			return 0
		}
		return 3
	case 'M':
		s.reverseIndex()
	case 'D':
		s.index()
	case 'E':
		s.x = 0
		s.index()
	case '7':
		s.savedX, s.savedY = s.x, s.y
	case '8':
		s.x, s.y = s.savedX, s.savedY
		s.wrapNext = false
	}
	return 2
}

func (s *screen) control(c byte) {
	switch c {
	case '\r':
		s.x, s.wrapNext = 0, false
	case '\n', 0x0b, 0x0c:
		s.index()
	case '\b':
		if s.x > 0 {
			s.x--
		}
		s.wrapNext = false
	case '\t':
		s.x = min((s.x/8+1)*8, s.w-1)
		s.wrapNext = false
	}
}

// index moves down a line, scrolling the region at its bottom.
func (s *screen) index() {
	s.wrapNext = false
	if s.y == s.bot {
		s.scrollUp(1)
		return
	}
	if s.y < s.h-1 {
		s.y++
	}
}

func (s *screen) reverseIndex() {
	s.wrapNext = false
	if s.y == s.top {
		s.scrollDown(1)
		return
	}
	if s.y > 0 {
		s.y--
	}
}

func (s *screen) print(r rune) {
	wide := r >= 0x1100 && ansi.StringWidth(string(r)) == 2
	if s.wrapNext && !s.noWrap {
		s.x = 0
		s.index()
	}
	s.wrapNext = false
	s.cells[s.y][s.x] = r
	s.last = r
	if wide && s.x+1 < s.w {
		s.x++
		s.cells[s.y][s.x] = 0 // the second half of a wide character
	}
	if s.x == s.w-1 {
		s.wrapNext = true
		return
	}
	s.x++
}

// csi runs a control sequence with parameters params and final byte f.
func (s *screen) csi(params string, f byte) {
	private := strings.HasPrefix(params, "?") || strings.HasPrefix(params, ">") || strings.HasPrefix(params, "<") || strings.HasPrefix(params, "=")
	if private {
		if params[0] == '?' && (f == 'h' || f == 'l') {
			for _, m := range strings.Split(params[1:], ";") {
				switch m {
				case "7":
					s.noWrap = f == 'l'
				case "1049", "47", "1047":
					s.clear(0, 0, s.w, s.h)
				}
			}
		}
		return
	}
	if strings.ContainsAny(params, "$ \"'!") {
		return // DECRQM and friends
	}
	ps := strings.Split(params, ";")
	arg := func(i, def int) int {
		if i >= len(ps) || ps[i] == "" {
			return def
		}
		v, err := strconv.Atoi(strings.SplitN(ps[i], ":", 2)[0])
		if err != nil || v == 0 {
			return def
		}
		return v
	}
	n := arg(0, 1)
	switch f {
	case 'H', 'f':
		s.y, s.x = clampI(arg(0, 1)-1, 0, s.h-1), clampI(arg(1, 1)-1, 0, s.w-1)
	case 'A':
		s.y = max(s.y-n, 0)
	case 'B', 'e':
		s.y = min(s.y+n, s.h-1)
	case 'C', 'a':
		s.x = min(s.x+n, s.w-1)
	case 'D':
		s.x = max(s.x-n, 0)
	case 'E':
		s.y, s.x = min(s.y+n, s.h-1), 0
	case 'F':
		s.y, s.x = max(s.y-n, 0), 0
	case 'G', '`':
		s.x = clampI(n-1, 0, s.w-1)
	case 'd':
		s.y = clampI(n-1, 0, s.h-1)
	case 'I':
		for range n {
			s.x = min((s.x/8+1)*8, s.w-1)
		}
	case 'Z':
		for range n {
			s.x = max((s.x-1)/8*8, 0)
		}
	case 'K':
		switch arg(0, 0) {
		case 0:
			s.clear(s.x, s.y, s.w, s.y+1)
		case 1:
			s.clear(0, s.y, s.x+1, s.y+1)
		case 2:
			s.clear(0, s.y, s.w, s.y+1)
		}
	case 'J':
		switch arg(0, 0) {
		case 0:
			s.clear(s.x, s.y, s.w, s.y+1)
			s.clear(0, s.y+1, s.w, s.h)
		case 1:
			s.clear(0, 0, s.w, s.y)
			s.clear(0, s.y, s.x+1, s.y+1)
		default:
			s.clear(0, 0, s.w, s.h)
		}
	case 'X':
		s.clear(s.x, s.y, min(s.x+n, s.w), s.y+1)
	case '@':
		l := s.cells[s.y]
		n = min(n, s.w-s.x)
		copy(l[s.x+n:], l[s.x:s.w-n])
		s.clear(s.x, s.y, s.x+n, s.y+1)
	case 'P':
		l := s.cells[s.y]
		n = min(n, s.w-s.x)
		copy(l[s.x:], l[s.x+n:])
		s.clear(s.w-n, s.y, s.w, s.y+1)
	case 'L':
		if s.y >= s.top && s.y <= s.bot {
			s.shift(s.y, s.bot, -n)
			s.x = 0
		}
	case 'M':
		if s.y >= s.top && s.y <= s.bot {
			s.shift(s.y, s.bot, n)
			s.x = 0
		}
	case 'S':
		s.scrollUp(n)
	case 'T':
		s.scrollDown(n)
	case 'b':
		for range n {
			s.print(s.last)
		}
		return
	case 'r':
		top, bot := arg(0, 1)-1, arg(1, s.h)-1
		if top < bot && bot < s.h {
			s.top, s.bot = top, bot
		} else {
			s.top, s.bot = 0, s.h-1
		}
		s.x, s.y = 0, 0
	default:
		return // SGR and the rest change no text
	}
	s.wrapNext = false
}

func (s *screen) scrollUp(n int)   { s.shift(s.top, s.bot, n) }
func (s *screen) scrollDown(n int) { s.shift(s.top, s.bot, -n) }

// shift moves lines top..bot up by n (down when n < 0), blanking what is
// uncovered.
func (s *screen) shift(top, bot, n int) {
	span := bot - top + 1
	if n > span {
		n = span
	}
	if n < -span {
		n = -span
	}
	switch {
	case n > 0:
		copy(s.cells[top:bot+1], s.cells[top+n:bot+1])
		for i := bot - n + 1; i <= bot; i++ {
			s.cells[i] = blankLine(s.w)
		}
	case n < 0:
		n = -n
		copy(s.cells[top+n:bot+1], s.cells[top:bot+1-n])
		for i := top; i < top+n; i++ {
			s.cells[i] = blankLine(s.w)
		}
	}
}

// clear blanks the cells from (x0, y0) to (x1, y1), exclusive.
func (s *screen) clear(x0, y0, x1, y1 int) {
	for y := max(y0, 0); y < min(y1, s.h); y++ {
		for x := max(x0, 0); x < min(x1, s.w); x++ {
			s.cells[y][x] = ' '
		}
	}
}

// Lines returns the screen's rows with trailing blanks trimmed.
func (s *screen) Lines() []string {
	if !s.dirty && s.cachedString != nil {
		return s.cachedString
	}
	out := make([]string, s.h)
	var b strings.Builder
	for y, l := range s.cells {
		b.Reset()
		for _, r := range l {
			if r != 0 {
				b.WriteRune(r)
			}
		}
		out[y] = strings.TrimRight(b.String(), " ")
	}
	s.cachedString, s.dirty = out, false
	return out
}

// Contains reports whether a row of the screen contains sub.
func (s *screen) Contains(sub string) bool {
	for _, l := range s.Lines() {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func clampI(v, lo, hi int) int { return max(lo, min(v, hi)) }
