package loadtest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// Progress is a snapshot of a run in progress.
type Progress struct {
	Phase         string // "connecting", "joining", "sending", "settling", "closing", "done"
	Connections   int    // asked for
	Connected     int
	ConnectErrors int
	Sent          int64
	SendErrors    int64
	Expected      int64
	Delivered     int64
	// Elapsed and Duration are the send phase's time so far and planned
	// length.
	Elapsed  time.Duration
	Duration time.Duration
}

// ErrorCount is one distinct error and how often it happened.
type ErrorCount struct {
	Error string `json:"error"`
	Count int    `json:"count"`
}

// Result is what a run measured.
type Result struct {
	Target string `json:"target"` // redacted URL or endpoint
	Hub    string `json:"hub"`
	Mode   Mode   `json:"mode"`
	Via    Via    `json:"via"`
	Groups int    `json:"groups"`

	Connections   int         `json:"connections"` // asked for
	Connected     int         `json:"connected"`
	ConnectErrors int         `json:"connectErrors"`
	Dropped       int         `json:"dropped"` // connections lost during the run
	Connect       Percentiles `json:"connectTime"`

	Rate       float64     `json:"rate"` // sends per second asked for
	SendSecs   float64     `json:"sendSeconds"`
	Sent       int64       `json:"sent"`
	SendErrors int64       `json:"sendErrors"`
	LateSends  int64       `json:"lateSends"` // ticks skipped: every sender busy
	Send       Percentiles `json:"sendTime"`  // HTTP round trip of a send

	Expected    int64       `json:"expected"`
	Delivered   int64       `json:"delivered"`
	Lost        int64       `json:"lost"`
	Duplicates  int64       `json:"duplicates"`
	Latency     Percentiles `json:"latency"`
	DeliveredPS float64     `json:"deliveredPerSecond"`

	// Server is the service process's own cost over the send phase, when
	// it is sigr's emulator reached through ConnectionString; ServerNote
	// says why it is missing otherwise. Client is this process's: the
	// connections' (and the senders').
	Server     *ProcessCost `json:"server,omitempty"`
	ServerNote string       `json:"serverNote,omitempty"`
	Client     *ProcessCost `json:"client,omitempty"`

	Interrupted bool         `json:"interrupted,omitempty"`
	Errors      []ErrorCount `json:"errors,omitempty"`
}

// benchConn is one connection and what it received.
type benchConn struct {
	i    int
	user string
	c    *client.Conn
	done chan struct{} // the receive goroutine ended

	mu   sync.Mutex
	seen []uint64 // bitset of seqs received, for duplicates
}

// markSeen reports whether seq is new for this connection.
func (b *benchConn) markSeen(seq int64) bool {
	if seq < 0 || seq > 1<<26 {
		return true
	}
	w, bit := int(seq/64), uint64(1)<<(seq%64)
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.seen) <= w {
		b.seen = append(b.seen, 0)
	}
	if b.seen[w]&bit != 0 {
		return false
	}
	b.seen[w] |= bit
	return true
}

// runner holds one run's state.
type runner struct {
	o       Options
	pl      payload
	http    *http.Client
	ownHTTP *http.Transport
	send    manage.Sender     // the path the sends and group actions take
	access  client.AccessFunc // with no URL: each connection's token

	phase     atomic.Value // string
	connected atomic.Int64
	connErrs  atomic.Int64
	sent      atomic.Int64
	sendErrs  atomic.Int64
	late      atomic.Int64
	expected  atomic.Int64
	delivered atomic.Int64
	dups      atomic.Int64
	dropped   atomic.Int64
	closing   atomic.Bool
	sendStart atomic.Int64 // unix nanos

	latency  histogram
	connect  histogram
	sendTime histogram

	errMu  sync.Mutex
	errs   map[string]int
	errOrd []string
}

// Run opens the connections, sends for Duration at Rate, waits for the
// stragglers and closes everything. It returns an error only when nothing
// could be measured (bad options, no connection opened); failures along
// the way are counted in the Result. A cancelled ctx stops the run early
// with Result.Interrupted set.
func Run(ctx context.Context, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	r := &runner{o: o, pl: newPayload(o.UserPrefix, o.PayloadSize), errs: map[string]int{}}
	r.phase.Store("connecting")
	if o.HTTPClient != nil {
		r.http = o.HTTPClient
	} else {
		r.ownHTTP = newTransport(o)
		r.http = r.client(r.ownHTTP)
		defer r.ownHTTP.CloseIdleConnections()
	}
	switch o.Via {
	case ViaREST:
		r.send, err = manage.NewRESTClient(o.ConnectionString, manage.RESTOptions{HTTPClient: r.http})
	case ViaFunctions:
		r.send, err = manage.NewFunctionApp(o.URL, manage.FunctionAppOptions{HTTPClient: r.http, Header: o.Header, Query: o.Query})
	}
	if err == nil {
		err = r.setAccess()
	}
	if err != nil {
		return nil, fmt.Errorf("loadtest: %w", err)
	}

	stopProgress := r.startProgress()
	res := r.run(ctx)
	stopProgress()
	return res, r.fatal(res)
}

// setAccess gives the connections their tokens from the connection
// string when there is no function app to negotiate through.
func (r *runner) setAccess() error {
	if r.o.URL != "" {
		return nil
	}
	var err error
	r.access, err = manage.ConnectionStringAccess(r.o.ConnectionString)
	return err
}

// fatal turns a run that connected nothing into an error.
func (r *runner) fatal(res *Result) error {
	if res.Connected > 0 {
		return nil
	}
	msg := "no connection could be opened"
	if len(res.Errors) > 0 {
		msg += ": " + res.Errors[0].Error
	}
	return errors.New("loadtest: " + msg)
}

func (r *runner) run(ctx context.Context) *Result {
	o := r.o
	conns := r.connectAll(ctx)
	defer r.closeAll(conns)
	res := r.result(conns, 0, false)
	if len(conns) == 0 {
		return res
	}

	// members[g] lists the connected users of group g.
	var members [][]*benchConn
	if o.Groups > 0 && ctx.Err() == nil {
		r.phase.Store("joining")
		members = r.joinGroups(ctx, conns)
		defer r.leaveGroups(members)
	}

	probe := newServerProbe(o, r.http)
	probe.start(ctx)
	r.phase.Store("sending")
	sendSecs := r.sendAll(ctx, conns, members)

	if ctx.Err() == nil {
		r.phase.Store("settling")
		deadline := time.NewTimer(o.Settle)
		tick := time.NewTicker(20 * time.Millisecond)
	settle:
		for r.delivered.Load() < r.expected.Load() {
			select {
			case <-deadline.C:
				break settle
			case <-tick.C:
			case <-ctx.Done():
				break settle
			}
		}
		deadline.Stop()
		tick.Stop()
	}
	res = r.result(conns, sendSecs, ctx.Err() != nil)
	probe.finish(ctx, res)
	return res
}

// result snapshots the counters into a Result.
func (r *runner) result(conns []*benchConn, sendSecs float64, interrupted bool) *Result {
	o := r.o
	target := textsafe.RedactURL(o.URL)
	if o.URL == "" {
		if cs, err := protocol.ParseConnectionString(o.ConnectionString); err == nil {
			target = cs.Endpoint
		}
	}
	res := &Result{
		Target: target, Hub: o.Hub, Mode: o.Mode, Via: o.Via, Groups: o.Groups,
		Connections: o.Connections, Connected: len(conns), ConnectErrors: int(r.connErrs.Load()),
		Dropped: int(r.dropped.Load()), Connect: r.connect.summary(),
		Rate: o.Rate, SendSecs: sendSecs, Sent: r.sent.Load(), SendErrors: r.sendErrs.Load(), LateSends: r.late.Load(),
		Send: r.sendTime.summary(), Expected: r.expected.Load(), Delivered: r.delivered.Load(), Duplicates: r.dups.Load(),
		Latency: r.latency.summary(), Interrupted: interrupted,
	}
	if res.Expected > res.Delivered {
		res.Lost = res.Expected - res.Delivered
	}
	if sendSecs > 0 {
		res.DeliveredPS = float64(res.Delivered) / sendSecs
	}
	r.errMu.Lock()
	for _, e := range r.errOrd {
		res.Errors = append(res.Errors, ErrorCount{Error: e, Count: r.errs[e]})
	}
	r.errMu.Unlock()
	sort.SliceStable(res.Errors, func(i, j int) bool { return res.Errors[i].Count > res.Errors[j].Count })
	return res
}

// fail counts an error by its text, keeping at most 20 distinct ones.
func (r *runner) fail(err error) {
	msg := textsafe.Line(err.Error())
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	r.errMu.Lock()
	defer r.errMu.Unlock()
	if _, ok := r.errs[msg]; !ok {
		if len(r.errOrd) >= 20 {
			r.errs["(more distinct errors not kept)"]++
			if r.errs["(more distinct errors not kept)"] == 1 {
				r.errOrd = append(r.errOrd, "(more distinct errors not kept)")
			}
			return
		}
		r.errOrd = append(r.errOrd, msg)
	}
	r.errs[msg]++
}

func (r *runner) user(i int) string  { return r.o.UserPrefix + "-" + strconv.Itoa(i) }
func (r *runner) group(g int) string { return r.o.UserPrefix + "-g" + strconv.Itoa(g) }

// connectAll opens the connections, ConnectConcurrency at a time, and
// returns those that connected, in user order.
func (r *runner) connectAll(ctx context.Context) []*benchConn {
	o := r.o
	out := make([]*benchConn, o.Connections)
	sem := make(chan struct{}, o.ConnectConcurrency)
	var wg sync.WaitGroup
	for i := range o.Connections {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = r.open(ctx, i)
		}()
	}
	wg.Wait()
	conns := out[:0]
	for _, b := range out {
		if b != nil {
			conns = append(conns, b)
		}
	}
	return conns
}

// open connects user i and starts its receive goroutine.
func (r *runner) open(ctx context.Context, i int) *benchConn {
	o := r.o
	co := o.ClientOptions
	co.URL, co.Access, co.Hub, co.UserID = o.URL, r.access, o.Hub, r.user(i)
	co.Header, co.Query = o.Header, o.Query
	if co.HTTPClient == nil {
		co.HTTPClient = r.http
	}
	if co.EventBuffer == 0 {
		co.EventBuffer = 64
	}
	if co.Reconnect == nil {
		co.Reconnect = client.NoReconnect
	}
	c, err := client.New(co)
	if err != nil {
		r.connErrs.Add(1)
		r.fail(err)
		return nil
	}
	b := &benchConn{i: i, user: co.UserID, c: c, done: make(chan struct{})}
	go r.receive(b)
	cctx, cancel := context.WithTimeout(ctx, o.ConnectTimeout)
	start := time.Now()
	err = c.Start(cctx)
	cancel()
	if err != nil {
		r.connErrs.Add(1)
		r.fail(err)
		_ = c.Close()
		<-b.done
		return nil
	}
	r.connect.add(time.Since(start))
	r.connected.Add(1)
	return b
}

// receive drains one connection's events until Close ends them.
func (r *runner) receive(b *benchConn) {
	defer close(b.done)
	up := false // saw Connected: a later drop is a finding, not a failed connect
	for ev := range b.c.Events() {
		switch ev.Kind {
		case client.EventMessage:
			m := &ev.Message
			if m.Type != protocol.TypeInvocation || m.Target != Target {
				continue
			}
			seq, sentNs, ok := r.pl.parse(m.Arguments)
			if !ok {
				continue
			}
			if !b.markSeen(seq) {
				r.dups.Add(1)
				continue
			}
			r.latency.add(time.Duration(ev.Time.UnixNano() - sentNs))
			r.delivered.Add(1)
		case client.EventState:
			if ev.State == client.Connected {
				up = true
			}
			if (ev.State == client.Reconnecting || ev.State == client.Disconnected) && up && !r.closing.Load() {
				up = false
				r.dropped.Add(1)
				if ev.Err != nil {
					r.fail(fmt.Errorf("connection lost: %w", ev.Err))
				}
			}
		}
	}
}

// joinGroups puts user i in group i mod Groups and returns each group's
// members.
func (r *runner) joinGroups(ctx context.Context, conns []*benchConn) [][]*benchConn {
	o := r.o
	members := make([][]*benchConn, o.Groups)
	var mu sync.Mutex
	sem := make(chan struct{}, o.Senders)
	var wg sync.WaitGroup
	for _, b := range conns {
		g := b.i % o.Groups
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_, err := r.send.Group(ctx, o.Hub, protocol.SignalRGroupAction{Action: protocol.GroupAdd, GroupName: r.group(g), UserID: b.user})
			if err != nil {
				r.fail(fmt.Errorf("join group: %w", err))
				return
			}
			mu.Lock()
			members[g] = append(members[g], b)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return members
}

// leaveGroups removes the memberships joinGroups made, which have no TTL
// (a group action adds users as the Functions binding does) and would
// outlive the run.
func (r *runner) leaveGroups(members [][]*benchConn) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sem := make(chan struct{}, r.o.Senders)
	var wg sync.WaitGroup
	for g, ms := range members {
		for _, b := range ms {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				_, _ = r.send.Group(ctx, r.o.Hub, protocol.SignalRGroupAction{Action: protocol.GroupRemove, GroupName: r.group(g), UserID: b.user})
			}()
		}
	}
	wg.Wait()
}

// sendAll sends at Rate for Duration and waits for the sends in flight.
// It returns the send phase's length in seconds.
func (r *runner) sendAll(ctx context.Context, conns []*benchConn, members [][]*benchConn) float64 {
	o := r.o
	interval := time.Duration(float64(time.Second) / o.Rate)
	if interval < 50*time.Microsecond {
		interval = 50 * time.Microsecond
	}
	start := time.Now()
	r.sendStart.Store(start.UnixNano())
	end := time.NewTimer(o.Duration)
	defer end.Stop()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	sem := make(chan struct{}, o.Senders)
	var wg sync.WaitGroup
	var seq int64
	send := func() {
		s := seq
		seq++
		select {
		case sem <- struct{}{}:
		default:
			r.late.Add(1)
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.sendOne(ctx, s, conns, members)
		}()
	}
	// Each tick sends every message due by now, so a tick the runtime
	// delivered late does not lower the rate.
	total := int64(math.Ceil(o.Duration.Seconds() * o.Rate))
	due := func() {
		n := min(int64(time.Since(start).Seconds()*o.Rate)+1, total)
		for seq < n {
			send()
		}
	}
	due()
loop:
	for {
		select {
		case <-tick.C:
			due()
		case <-end.C:
			break loop
		case <-ctx.Done():
			break loop
		}
	}
	secs := time.Since(start).Seconds()
	wg.Wait()
	return secs
}

// sendOne sends message seq to its recipients and, once the send is
// accepted, adds them to the deliveries expected.
func (r *runner) sendOne(ctx context.Context, seq int64, conns []*benchConn, members [][]*benchConn) {
	o := r.o
	var m protocol.SignalRMessage
	var expect int64
	switch o.Mode {
	case Broadcast:
		expect = int64(len(conns))
	case ToUser:
		m.UserID = conns[seq%int64(len(conns))].user
		expect = 1
	case ToGroup:
		g := int(seq % int64(o.Groups))
		m.GroupName = r.group(g)
		expect = int64(len(members[g]))
	}
	m.Target = Target
	t0 := time.Now()
	m.Arguments = r.pl.args(seq, t0.UnixNano())
	if _, err := r.send.Send(ctx, o.Hub, manage.SignalR(m)); err != nil {
		if ctx.Err() == nil {
			r.sendErrs.Add(1)
			r.fail(err)
		}
		return
	}
	r.sendTime.add(time.Since(t0))
	r.sent.Add(1)
	r.expected.Add(expect)
}

// closeAll closes every connection, many at a time since each Close may
// wait for the server's WebSocket close.
func (r *runner) closeAll(conns []*benchConn) {
	r.phase.Store("closing")
	r.closing.Store(true)
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for _, b := range conns {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			_ = b.c.Close()
			<-b.done
		}()
	}
	wg.Wait()
}

// startProgress calls Options.Progress periodically; the returned func
// stops it after one last call.
func (r *runner) startProgress() func() {
	if r.o.Progress == nil {
		return func() {}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(r.o.ProgressEvery)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				r.o.Progress(r.snapshot())
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		r.phase.Store("done")
		r.o.Progress(r.snapshot())
	}
}

func (r *runner) snapshot() Progress {
	p := Progress{
		Phase: r.phase.Load().(string), Connections: r.o.Connections, Connected: int(r.connected.Load()),
		ConnectErrors: int(r.connErrs.Load()), Sent: r.sent.Load(), SendErrors: r.sendErrs.Load(),
		Expected: r.expected.Load(), Delivered: r.delivered.Load(), Duration: r.o.Duration,
	}
	if s := r.sendStart.Load(); s != 0 {
		p.Elapsed = min(time.Since(time.Unix(0, s)), r.o.Duration)
	}
	return p
}

func newTransport(o Options) *http.Transport {
	return &http.Transport{Proxy: http.ProxyFromEnvironment, MaxIdleConnsPerHost: o.Senders + 8, IdleConnTimeout: 30 * time.Second}
}

func (r *runner) client(t *http.Transport) *http.Client {
	return &http.Client{Timeout: 30 * time.Second, Transport: t}
}
