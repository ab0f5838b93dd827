package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Shopify/toxiproxy/v2"
	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/cutproxy"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

func TestMain(m *testing.M) {
	// Toxiproxy's toxics log through zerolog's global logger.
	zerolog.SetGlobalLevel(zerolog.Disabled)
	// Toxiproxy v2.5.0 can leave a link's goroutines blocked on its
	// internal channels when a toxic (reset_peer, limit_data, timeout)
	// ends a link with data in flight; its own tests do not check for
	// leaks. Those goroutines are the library's, recognised by their
	// toxiproxy frames; every goroutine of sigr's is still checked.
	ignore := []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2.(*ToxicLink).read"),
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2.(*ToxicLink).write"),
		goleak.IgnoreAnyFunction("github.com/Shopify/toxiproxy/v2/toxics.(*ToxicStub).Run"),
	}
	goleak.VerifyTestMain(m, ignore...)
}

// faultUser is who the client is; the sender addresses the user, so that
// messages reach whichever connection the user has after a reconnect.
const faultUser = "fault-user"

// harness is one client connected to the emulator through a toxiproxy
// proxy, with a receiver that counts the numbered messages that arrive.
type harness struct {
	t     *testing.T
	proxy *toxiproxy.Proxy
	cut   *cutproxy.Proxy // between the client and proxy, when set
	st    *emulator.Stack
	tune  func(*emulator.StackOptions)
	rc    *manage.RESTClient
	conn  *client.Conn

	serviceAddr, functionsAddr string

	mu         sync.Mutex
	seen       map[int]int // number -> times received
	order      int         // numbers that arrived below an earlier one
	last       int
	states     []stateAt
	stateCh    chan client.Event
	recvDone   chan struct{}
	received   int
	cond       chan struct{} // pinged on every message
	disconnect error
	lastAt     time.Time
	maxGap     time.Duration // longest wait between two messages
}

type stateAt struct {
	client.Event
}

// options returns the client options the fault tests share: quick
// keep-alive and server timeout (so a half-open connection is noticed in
// a second), a policy that never gives up and starts after 100 ms.
func clientOptions(url string) client.Options {
	return client.Options{
		URL:           url,
		UserID:        faultUser,
		KeepAlive:     200 * time.Millisecond,
		ServerTimeout: time.Second,
		HTTPTimeout:   3 * time.Second,
		Reconnect:     client.Backoff{Delays: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}, Forever: true},
		EventBuffer:   4096,
	}
}

// newHarness starts the emulator behind a proxy and connects a client
// configured by opts (which gets the function app URL).
func newHarness(t *testing.T, tune func(*emulator.StackOptions), opts func(*client.Options)) *harness {
	t.Helper()
	return newHarnessVia(t, nil, tune, opts)
}

// newHarnessVia is newHarness with cut, when not nil, between the client
// and the toxiproxy proxy: cutting it drops the client's own TCP
// connection, with whatever the toxics still hold for it.
func newHarnessVia(t *testing.T, cut *cutproxy.Proxy, tune func(*emulator.StackOptions), opts func(*client.Options)) *harness {
	t.Helper()
	h := &harness{t: t, cut: cut, tune: tune, seen: map[int]int{}, stateCh: make(chan client.Event, 256), recvDone: make(chan struct{}), cond: make(chan struct{}, 1)}
	srv := toxiproxy.NewServer(toxiproxy.NewMetricsContainer(nil), zerolog.Nop())
	h.proxy = toxiproxy.NewProxy(srv, "service", "127.0.0.1:0", "127.0.0.1:1")
	if err := h.proxy.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.proxy.Stop)
	if cut != nil {
		cut.SetTarget(h.proxy.Listen)
	}
	h.serviceAddr, h.functionsAddr = "127.0.0.1:0", "127.0.0.1:0"
	h.startEmulator()
	// Point the proxy at the service, keeping its address (negotiate
	// already hands that out).
	if err := h.proxy.Update(&toxiproxy.Proxy{Listen: h.proxy.Listen, Upstream: h.serviceAddr, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	o := clientOptions(h.st.FunctionsURL)
	if opts != nil {
		opts(&o)
	}
	c, err := client.New(o)
	if err != nil {
		t.Fatal(err)
	}
	h.conn = c
	go h.receive()
	t.Cleanup(func() {
		_ = c.Close()
		<-h.recvDone
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatalf("Start: %v", err)
	}
	h.awaitState(client.Connected, 5*time.Second)
	h.waitUser()
	return h
}

// startEmulator starts (or restarts, on the same addresses) the emulator.
func (h *harness) startEmulator() {
	h.t.Helper()
	opts := emulator.StackOptions{
		ServiceAddr:    h.serviceAddr,
		FunctionsAddr:  h.functionsAddr,
		ClientEndpoint: "http://" + h.clientAddr(),
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		Service: emulator.ServiceOptions{
			PingInterval:    200 * time.Millisecond,
			ShutdownTimeout: time.Second,
			QueueSize:       20000,
		},
	}
	if h.tune != nil {
		h.tune(&opts)
	}
	var err error
	for i := 0; ; i++ {
		h.st, err = emulator.StartStack(context.Background(), opts)
		if err == nil || i == 50 {
			break
		}
		time.Sleep(20 * time.Millisecond) // a restart may find the port still closing
	}
	if err != nil {
		h.t.Fatal(err)
	}
	st := h.st
	h.t.Cleanup(func() { _ = st.Close() })
	h.serviceAddr = strings.TrimPrefix(h.st.ServiceURL, "http://")
	u := strings.TrimPrefix(strings.TrimSuffix(h.st.FunctionsURL, "/api"), "http://")
	h.functionsAddr = u
	h.rc, err = manage.NewRESTClient(h.st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
}

// clientAddr is where clients reach the service: the first proxy.
func (h *harness) clientAddr() string {
	if h.cut != nil {
		return h.cut.Addr()
	}
	return h.proxy.Listen
}

// receive counts every numbered message and records state changes.
func (h *harness) receive() {
	defer close(h.recvDone)
	for ev := range h.conn.Events() {
		switch {
		case ev.Kind == client.EventState:
			h.mu.Lock()
			h.states = append(h.states, stateAt{ev})
			if ev.State == client.Disconnected {
				h.disconnect = ev.Err
			}
			h.mu.Unlock()
			select {
			case h.stateCh <- ev:
			default:
			}
		case ev.Kind == client.EventMessage && ev.Message.Type == protocol.TypeInvocation && ev.Message.Target == "n":
			var args []int
			if err := json.Unmarshal(ev.Message.Arguments, &args); err != nil || len(args) != 1 {
				h.t.Errorf("arguments %s", ev.Message.Arguments)
				continue
			}
			n := args[0]
			h.mu.Lock()
			h.seen[n]++
			h.received++
			if !h.lastAt.IsZero() && ev.Time.Sub(h.lastAt) > h.maxGap {
				h.maxGap = ev.Time.Sub(h.lastAt)
			}
			h.lastAt = ev.Time
			if n < h.last {
				h.order++
			}
			h.last = n
			h.mu.Unlock()
			select {
			case h.cond <- struct{}{}:
			default:
			}
		}
	}
}

// awaitState waits for the next state event equal to s and returns it.
func (h *harness) awaitState(s client.State, d time.Duration) client.Event {
	h.t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		select {
		case ev := <-h.stateCh:
			if ev.State == s {
				return ev
			}
		case <-timer.C:
			h.t.Fatalf("no %s state within %s", s, d)
			return client.Event{}
		}
	}
}

// waitUser waits until the service indexes the user's connection, so a
// send to the user reaches it.
func (h *harness) waitUser() {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := h.rc.UserExists(context.Background(), "chat", faultUser)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("the user's connection never registered (last error %v)", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// send sends the numbers from..to to the user through the REST API, which
// reaches the service directly, not through the proxy.
func (h *harness) send(ctx context.Context, from, to int) error {
	for i := from; i <= to; i++ {
		if err := h.rc.SendToUser(ctx, "chat", faultUser, "n", json.RawMessage("["+strconv.Itoa(i)+"]")); err != nil {
			return fmt.Errorf("send %d: %w", i, err)
		}
	}
	return nil
}

// waitFor waits until every number in from..to arrived, or d passes; it
// reports whether they all did.
func (h *harness) waitFor(from, to int, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		h.mu.Lock()
		all := true
		for i := from; i <= to; i++ {
			if h.seen[i] == 0 {
				all = false
				break
			}
		}
		h.mu.Unlock()
		if all {
			return true
		}
		select {
		case <-h.cond:
		case <-deadline.C:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// outcome is what a fault test measured.
type outcome struct {
	sent, received, unique, duplicated, lost, outOfOrder int
	reconnects, resumes                                  int
	recover                                              time.Duration
	// maxOutage is the longest Reconnecting-to-Connected span; maxGap the
	// longest wait between two received messages.
	maxOutage, maxGap time.Duration
}

func (h *harness) outcome(sent int, recover time.Duration) outcome {
	h.mu.Lock()
	defer h.mu.Unlock()
	o := outcome{sent: sent, received: h.received, unique: len(h.seen), outOfOrder: h.order, recover: recover}
	for _, n := range h.seen {
		if n > 1 {
			o.duplicated += n - 1
		}
	}
	o.lost = sent - o.unique
	o.maxGap = h.maxGap
	var down time.Time
	for _, s := range h.states {
		switch {
		case s.State == client.Reconnecting && down.IsZero():
			down = s.Time
		case s.State == client.Connected && !down.IsZero():
			o.maxOutage = max(o.maxOutage, s.Time.Sub(down))
			down = time.Time{}
		}
		if s.State == client.Connected && s.Resumed {
			o.resumes++
		}
		if s.State == client.Reconnecting {
			o.reconnects++
		}
	}
	return o
}

func (o outcome) String() string {
	rec := "no drop"
	if o.recover > 0 {
		rec = o.recover.Round(time.Millisecond).String()
	}
	return fmt.Sprintf("sent %d, received %d (unique %d), lost %d, duplicated %d, out of order %d, reconnecting events %d, resumes %d, time to recover %s, longest outage %s, longest gap between messages %s",
		o.sent, o.received, o.unique, o.lost, o.duplicated, o.outOfOrder, o.reconnects, o.resumes, rec,
		o.maxOutage.Round(time.Millisecond), o.maxGap.Round(time.Millisecond))
}

// addToxic adds a toxic from its JSON description.
func (h *harness) addToxic(js string) {
	h.t.Helper()
	if _, err := h.proxy.Toxics.AddToxicJson(strings.NewReader(js)); err != nil {
		h.t.Fatalf("toxic %s: %v", js, err)
	}
}

func (h *harness) removeToxic(name string) {
	h.t.Helper()
	if err := h.proxy.Toxics.RemoveToxic(context.Background(), name); err != nil {
		h.t.Fatalf("remove toxic %s: %v", name, err)
	}
}
