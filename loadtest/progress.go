package loadtest

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// ProgressBar returns a Progress callback that draws a one-line bar on w.
// On a terminal (tty) it redraws the line in place; otherwise it writes a
// line at most every 5 s, so a log file stays readable.
func ProgressBar(w io.Writer, tty bool) func(Progress) {
	var mu sync.Mutex
	var last time.Time
	var lastDelivered int64
	var lastAt time.Time
	return func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		rate := 0.0
		if !lastAt.IsZero() && now.After(lastAt) {
			rate = float64(p.Delivered-lastDelivered) / now.Sub(lastAt).Seconds()
		}
		lastDelivered, lastAt = p.Delivered, now
		line := progressLine(p, rate)
		switch {
		case tty:
			end := ""
			if p.Phase == "done" {
				end = "\n"
			}
			fmt.Fprintf(w, "\r\x1b[2K%s%s", line, end)
		case p.Phase == "done" || now.Sub(last) >= 5*time.Second:
			last = now
			fmt.Fprintln(w, line)
		}
	}
}

// progressLine renders one snapshot: a 20-cell bar of the current phase,
// then the counters.
func progressLine(p Progress, rate float64) string {
	frac := 0.0
	switch p.Phase {
	case "connecting", "joining":
		if p.Connections > 0 {
			frac = float64(p.Connected+p.ConnectErrors) / float64(p.Connections)
		}
	case "sending":
		if p.Duration > 0 {
			frac = float64(p.Elapsed) / float64(p.Duration)
		}
	default:
		frac = 1
	}
	frac = min(max(frac, 0), 1)
	const cells = 20
	full := int(frac * cells)
	bar := strings.Repeat("█", full) + strings.Repeat("░", cells-full)
	s := fmt.Sprintf("%-10s %s %3.0f%%  conns %d/%d", p.Phase, bar, frac*100, p.Connected, p.Connections)
	if p.ConnectErrors > 0 {
		s += fmt.Sprintf(" (%d failed)", p.ConnectErrors)
	}
	if p.Phase != "connecting" && p.Phase != "joining" {
		s += fmt.Sprintf("  sent %d  delivered %d/%d", p.Sent, p.Delivered, p.Expected)
		if rate > 0 {
			s += fmt.Sprintf(" (%.0f/s)", rate)
		}
		if p.SendErrors > 0 {
			s += fmt.Sprintf("  send errors %d", p.SendErrors)
		}
	}
	return s
}
