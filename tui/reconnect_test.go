package tui

import (
	"context"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
)

// TestMonitorReconnectNeverGivesUp: the screen's default policy keeps
// trying long after the client's default has given up (after 4 attempts),
// and never waits much more than 30 s.
func TestMonitorReconnectNeverGivesUp(t *testing.T) {
	p := MonitorReconnect()
	if _, ok := client.DefaultReconnectPolicy().NextDelay(client.RetryContext{Attempt: 5}); ok {
		t.Fatal("the client's default policy no longer gives up: this test proves nothing")
	}
	for a := 1; a <= 500; a++ {
		d, ok := p.NextDelay(client.RetryContext{Attempt: a, Elapsed: time.Duration(a) * 30 * time.Second})
		if !ok {
			t.Fatalf("attempt %d: the monitor gave up", a)
		}
		if d > 36*time.Second || (a > 4 && d < 24*time.Second) {
			t.Fatalf("attempt %d waits %v, want 30 s ± 20%% once backed off", a, d)
		}
	}
	// The session applies it, and retries the first connect, unless told
	// otherwise.
	s := NewClientSession(client.Options{URL: "http://127.0.0.1:1/api"})
	defer s.Close()
	if _, ok := s.base.Reconnect.(client.Backoff); !ok || !s.base.RetryFirstConnect {
		t.Fatalf("session options: %+v, retry first %v", s.base.Reconnect, s.base.RetryFirstConnect)
	}
}

// outage drives a Model over a real ClientSession against an emulator
// that the test stops and starts again on the same ports.
type outage struct {
	t        *testing.T
	ctx      context.Context
	svc, fns string // the emulator's listen addresses
	st       *emulator.Stack
	sess     *ClientSession
	feed     *Feed
	m        *Model
}

func newOutage(t *testing.T, ctx context.Context, policy client.ReconnectPolicy) *outage {
	o := &outage{t: t, ctx: ctx}
	o.start("127.0.0.1:0", "127.0.0.1:0")
	o.svc, o.fns = hostOf(t, o.st.ServiceURL), hostOf(t, o.st.FunctionsURL)
	quiet := slog.New(slog.DiscardHandler)
	o.sess = NewClientSession(client.Options{URL: o.st.FunctionsURL, Logger: quiet, Reconnect: policy})
	o.feed = NewFeed(o.sess.Conns(), time.Millisecond, 0)
	o.m = New(Config{Context: ctx, Session: o.sess, Feed: o.feed, URL: o.st.FunctionsURL, Location: time.UTC})
	o.m.Update(tea.WindowSizeMsg{Width: 160, Height: 30})
	t.Cleanup(func() {
		_ = o.sess.Close()
		o.feed.Stop()
		if o.st != nil {
			_ = o.st.Close()
		}
	})
	return o
}

func hostOf(t *testing.T, u string) string {
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	return p.Host
}

func (o *outage) start(svc, fns string) {
	o.t.Helper()
	st, err := emulator.StartStack(o.ctx, emulator.StackOptions{ServiceAddr: svc, FunctionsAddr: fns, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		o.t.Fatal(err)
	}
	o.st = st
}

func (o *outage) stop() {
	o.t.Helper()
	if err := o.st.Close(); err != nil {
		o.t.Fatal(err)
	}
	o.st = nil
}

// until feeds the model the session's batches until cond holds.
func (o *outage) until(what string, cond func(*Model) bool) {
	o.t.Helper()
	for !cond(o.m) {
		done := make(chan tea.Msg, 1)
		go func() { done <- o.feed.Next()() }()
		select {
		case msg := <-done:
			if _, ok := msg.(batchMsg); !ok {
				o.t.Fatalf("the feed ended (%T) while waiting for %s", msg, what)
			}
			o.m.Update(msg)
		case <-o.ctx.Done():
			c := o.m.roster.selected()
			err := ""
			if c != nil {
				err = c.err
			}
			o.t.Fatalf("timed out waiting for %s; status: %s; error: %s", what, ansi.Strip(o.m.statusLine(160)), err)
		}
	}
}

// key presses k and runs the command it returns, handing the model its
// message.
func (o *outage) key(k string) {
	o.t.Helper()
	_, cmd := o.m.Update(press(k))
	if cmd == nil {
		o.t.Fatalf("%s gave no command", k)
	}
	o.m.Update(cmd())
}

func connState(label string, st client.State) func(*Model) bool {
	return func(m *Model) bool {
		i, ok := m.roster.index[label]
		return ok && m.roster.conns[i].state == st
	}
}

func streamText(m *Model) string {
	return ansi.Strip(strings.Join(m.stream.Render(160, 1000, false), "\n"))
}

// TestOutageUnderTUI: the emulator is down when the screen starts and
// down again later for longer than the client's default policy lasts; the
// screen's session keeps trying on its own, connects when it comes back,
// and the stream marks the gap.
func TestOutageUnderTUI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The monitor's policy with short delays: the same shape, so that an
	// outage of many attempts takes well under a second.
	o := newOutage(t, ctx, client.Backoff{Delays: []time.Duration{0, 10 * time.Millisecond, 30 * time.Millisecond}, Forever: true})
	o.stop()

	// A first connect that fails is retried.
	if err := o.sess.Open(ctx, ConnSpec{Hub: "chat", User: "alice"}); err != nil {
		t.Fatal(err)
	}
	beyond := func(m *Model) bool {
		c := m.roster.selected()
		return c != nil && c.attempt > len(client.OfficialDelays)+1
	}
	o.until("retries beyond the client's default", beyond)
	if s := ansi.Strip(o.m.statusLine(160)); !strings.Contains(s, "connecting #") {
		t.Fatalf("status while retrying: %q", s)
	}
	o.start(o.svc, o.fns)
	o.until("alice connected", connState("alice@chat", client.Connected))

	// Down again, for longer than the client's default policy lasts.
	o.stop()
	o.until("alice reconnecting", connState("alice@chat", client.Reconnecting))
	o.until("retries beyond the client's default", beyond)
	o.start(o.svc, o.fns)
	o.until("alice back", connState("alice@chat", client.Connected))
	if s := streamText(o.m); !strings.Contains(s, "disconnected") || !strings.Contains(s, "messages sent meanwhile were not received") {
		t.Fatalf("the stream has no gap row:\n%s", s)
	}
	if s := ansi.Strip(o.m.statusLine(160)); !strings.Contains(s, "alice") || strings.Contains(s, "reconnecting") {
		t.Fatalf("status after the outage: %q", s)
	}
}

// TestReconnectKeys: x closes the selected connection and opens it again;
// R skips a long backoff.
func TestReconnectKeys(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// One immediate retry, then an hour: the immediate one covers a pooled
	// HTTP connection to the stopped emulator, whose first use fails.
	o := newOutage(t, ctx, client.Backoff{Delays: []time.Duration{0, time.Hour}, Forever: true})
	if err := o.sess.Open(ctx, ConnSpec{Hub: "chat", User: "bob"}); err != nil {
		t.Fatal(err)
	}
	o.until("bob connected", connState("bob@chat", client.Connected))

	o.key("x")
	if s := ansi.Strip(o.m.statusLine(160)); !strings.Contains(s, "closed (x reopens)") {
		t.Fatalf("status after x: %q", s)
	}
	o.key("x")
	o.until("bob connected again", connState("bob@chat", client.Connected))
	if s := streamText(o.m); strings.Count(s, "messages sent meanwhile") != 1 {
		t.Fatalf("want one gap row after x, x:\n%s", s)
	}

	// Down, and waiting an hour: R tries now.
	o.stop()
	o.until("bob waiting", func(m *Model) bool {
		c := m.roster.selected()
		return c.state == client.Reconnecting && c.retryAt.After(time.Now().Add(time.Minute))
	})
	if s := ansi.Strip(o.m.statusLine(160)); !strings.Contains(s, "in 1h0m0s") {
		t.Fatalf("status while waiting: %q", s)
	}
	o.start(o.svc, o.fns)
	o.key("R")
	o.until("bob back at once", connState("bob@chat", client.Connected))
	if s := streamText(o.m); strings.Count(s, "messages sent meanwhile") != 2 {
		t.Fatalf("want two gap rows:\n%s", s)
	}
}
