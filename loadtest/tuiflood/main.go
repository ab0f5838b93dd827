package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"
)

func main() {
	sigr := flag.String("sigr", "", "the sigr binary to measure")
	url := flag.String("url", "", "the flood server's hub URL (interop/watch-bench-server)")
	count := flag.Int("count", 100000, "messages the server sends on each connection")
	size := flag.String("size", "200x50", "the pseudo-terminal's size, columns x rows")
	keyEvery := flag.Duration("key-every", 50*time.Millisecond, "pause between two key presses during the flood")
	timeout := flag.Duration("timeout", 60*time.Second, "the longest either process may take")
	label := flag.String("label", "", "a name printed before the figures")
	only := flag.String("only", "", "watch or tui: run one side only")
	flag.Parse()
	if *sigr == "" || *url == "" {
		fmt.Fprintln(os.Stderr, "usage: tuiflood -sigr BINARY -url HUB_URL [-count N] [-size 200x50] [-key-every 50ms]")
		os.Exit(2)
	}
	var w, h int
	if _, err := fmt.Sscanf(*size, "%dx%d", &w, &h); err != nil || w < 40 || h < 10 {
		fmt.Fprintf(os.Stderr, "tuiflood: -size %q: want COLSxROWS, at least 40x10\n", *size)
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *only != "tui" {
		r, err := runWatch(ctx, *sigr, *url, *count)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tuiflood: watch:", err)
			os.Exit(1)
		}
		fmt.Printf("%s watch  %s\n", *label, r)
	}
	if *only != "watch" {
		r, err := runTUI(ctx, *sigr, *url, *count, w, h, *keyEvery)
		if err != nil && os.Getenv("TUIFLOOD_DEBUG") != "" {
			fmt.Fprintln(os.Stderr, strings.Join(lastScreen, "\n"))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "tuiflood: tui:", err)
			os.Exit(1)
		}
		fmt.Printf("%s tui    %s\n", *label, r)
	}
}

// result is one process's figures.
type result struct {
	cpu  time.Duration // user + system
	rss  int64         // KiB, peak
	last time.Duration // from start to the last message (watch: to its exit)
	keys []time.Duration
}

func (r result) String() string {
	s := fmt.Sprintf("cpu_ms=%d rss_kb=%d last_ms=%d cores=%.2f", r.cpu.Milliseconds(), r.rss, r.last.Milliseconds(),
		r.cpu.Seconds()/r.last.Seconds())
	if len(r.keys) > 0 {
		k := slices.Clone(r.keys)
		slices.Sort(k)
		q := func(p float64) float64 {
			return float64(k[min(int(p*float64(len(k))), len(k)-1)].Microseconds()) / 1000
		}
		s += fmt.Sprintf(" keys=%d key_p50_ms=%.1f key_p99_ms=%.1f key_max_ms=%.1f", len(k), q(0.5), q(0.99), q(1))
	}
	return s
}

// runWatch times `sigr watch URL --count N >/dev/null` from start to exit.
func runWatch(ctx context.Context, sigr, url string, count int) (result, error) {
	cmd := exec.CommandContext(ctx, sigr, "watch", url, "--count", strconv.Itoa(count))
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return result{}, err
	}
	cpu, rss := usage(cmd.ProcessState)
	return result{cpu: cpu, rss: rss, last: time.Since(start)}, nil
}

// Markers on the screen: the last message's text, any message's, and the
// title of the key map that ? opens and closes.
func lastMarker(count int) string { return fmt.Sprintf("message %d of", count-1) }

const (
	anyMarker  = "bob: message "
	helpMarker = "│ Keys "
)

// lastScreen is the screen as runTUI left it, for TUIFLOOD_DEBUG.
var lastScreen []string

func has(sub string) func(*screen) bool    { return func(s *screen) bool { return s.Contains(sub) } }
func hasNot(sub string) func(*screen) bool { return func(s *screen) bool { return !s.Contains(sub) } }

// runTUI starts `sigr URL` on a pseudo-terminal of w×h, presses ? every
// keyEvery from the first message to the last (each press opens the key
// map or closes it, and is timed until the screen shows it), then q.
func runTUI(ctx context.Context, sigr, url string, count, w, h int, keyEvery time.Duration) (result, error) {
	master, tty, err := openPTY(w, h)
	if err != nil {
		return result{}, err
	}
	defer master.Close()
	cmd := exec.Command(sigr, url)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "COLORTERM=truecolor")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	if p := os.Getenv("TUIFLOOD_STDERR"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		cmd.Stderr = f
	}
	onTerminal(cmd)
	last := lastMarker(count)
	t := &term{scr: newScreen(w, h), changed: make(chan struct{}), last: last}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tty.Close()
		return result{}, err
	}
	tty.Close()
	go t.run(master)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	kill := func() {
		cmd.Process.Kill()
		<-exited
	}
	defer func() {
		t.mu.Lock()
		lastScreen = t.scr.Lines()
		t.mu.Unlock()
	}()

	var res result
	lastShown := func(*screen) bool { return !t.lastAt.IsZero() }
	if _, err := t.wait(ctx, has(anyMarker)); err != nil {
		kill()
		return result{}, fmt.Errorf("no message on screen: %w", err)
	}
	open := false
	done := false
	for !done {
		// A pause between presses, unless the last message shows meanwhile.
		pause, cancel := context.WithTimeout(ctx, keyEvery)
		_, err := t.wait(pause, lastShown)
		cancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			kill()
			return result{}, fmt.Errorf("the last message never showed: %w", ctx.Err())
		}
		sent := time.Now()
		if _, err := master.Write([]byte("?")); err != nil {
			kill()
			return result{}, err
		}
		open = !open
		want := has(helpMarker)
		if !open {
			want = hasNot(helpMarker)
		}
		at, err := t.wait(ctx, want)
		if err != nil {
			kill()
			return result{}, fmt.Errorf("key press never showed: %w", err)
		}
		res.keys = append(res.keys, at.Sub(sent))
		t.mu.Lock()
		done = !t.lastAt.IsZero()
		t.mu.Unlock()
	}
	t.mu.Lock()
	res.last = t.lastAt.Sub(start)
	t.mu.Unlock()
	if open {
		// q does not quit from the key map.
		if _, err := master.Write([]byte("?")); err != nil {
			kill()
			return result{}, err
		}
		if _, err := t.wait(ctx, hasNot(helpMarker)); err != nil {
			kill()
			return result{}, err
		}
	}
	master.Write([]byte("q"))
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			return result{}, err
		}
	case <-time.After(10 * time.Second):
		if os.Getenv("TUIFLOOD_STDERR") != "" {
			dumpGoroutines(cmd.Process)
			time.Sleep(time.Second)
		}
		kill()
		return result{}, errors.New("q did not end the TUI within 10s")
	case <-ctx.Done():
		kill()
		return result{}, ctx.Err()
	}
	res.cpu, res.rss = usage(cmd.ProcessState)
	return res, nil
}
