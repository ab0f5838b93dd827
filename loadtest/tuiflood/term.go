package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"
)

// term is the terminal's side of the pseudo-terminal: it replays what the
// TUI writes onto a grid and tells waiters when the grid shows what they
// wait for.
type term struct {
	mu      sync.Mutex
	scr     *screen
	changed chan struct{} // closed and replaced on every write
	err     error
	// last is the last message's marker, lastAt when the screen first
	// showed it.
	last   string
	lastAt time.Time
}

func (t *term) run(f *os.File) {
	buf := make([]byte, 64<<10)
	var raw *os.File
	if p := os.Getenv("TUIFLOOD_RAW"); p != "" {
		raw, _ = os.Create(p)
		defer raw.Close()
	}
	for {
		n, err := f.Read(buf)
		if raw != nil && n > 0 {
			raw.Write(buf[:n])
		}
		t.mu.Lock()
		if n > 0 {
			t.scr.Write(buf[:n])
			if t.lastAt.IsZero() && t.scr.Contains(t.last) {
				t.lastAt = time.Now()
			}
		}
		if err != nil {
			t.err = err
		}
		close(t.changed)
		t.changed = make(chan struct{})
		t.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// wait returns when cond holds on the screen, with the time it first did.
func (t *term) wait(ctx context.Context, cond func(*screen) bool) (time.Time, error) {
	for {
		t.mu.Lock()
		ok, ch, err := cond(t.scr), t.changed, t.err
		t.mu.Unlock()
		if ok {
			return time.Now(), nil
		}
		if err != nil {
			return time.Time{}, fmt.Errorf("the terminal closed: %w", err)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		}
	}
}
