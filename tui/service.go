package tui

import (
	"context"
	"errors"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// Inspector reads the service's own view of its hubs, which sigr's
// emulator serves and Azure SignalR Service does not: who is connected and
// in which groups, and the live trace of what it does. ClientInspector
// adapts package manage to it.
type Inspector interface {
	// Hubs lists the hubs the service holds.
	Hubs(ctx context.Context) ([]protocol.HubSummary, error)
	// HubState returns one hub's connections, users and groups.
	HubState(ctx context.Context, hub string) (protocol.HubState, error)
	// Trace calls fn with each event of the service's trace, every hub's,
	// until ctx ends or the stream does.
	Trace(ctx context.Context, fn func(protocol.TraceEvent) error) error
}

// ClientInspector is the Inspector of package manage: signed GETs of the
// emulator's /_sigr/v1 endpoints.
type ClientInspector struct {
	manage.Inspect
}

// Hubs implements Inspector.
func (c *ClientInspector) Hubs(ctx context.Context) ([]protocol.HubSummary, error) {
	return manage.Hubs(ctx, c.Inspect)
}

// HubState implements Inspector.
func (c *ClientInspector) HubState(ctx context.Context, hub string) (protocol.HubState, error) {
	return manage.HubState(ctx, c.Inspect, hub)
}

// Trace implements Inspector.
func (c *ClientInspector) Trace(ctx context.Context, fn func(protocol.TraceEvent) error) error {
	return manage.Trace(ctx, c.Inspect, "", fn)
}

// FindInspector finds the service's view, or says why there is none.
type FindInspector func(ctx context.Context) (ServiceFound, error)

// ServiceFound is what a FindInspector found.
type ServiceFound struct {
	Inspector Inspector
	// From says how it was found, e.g. the service and which key signs
	// the requests.
	From string
	// AccessKey is the key the service accepted; the token inspector
	// checks signatures with it when the screen knows no other.
	AccessKey string
}

// DefaultStateEvery is how often a ServiceView reads the hubs' state when
// nothing changed; a trace event that changes membership reads it at once.
const DefaultStateEvery = time.Second

// maxLiveHubs bounds the hubs whose state is read each time.
const maxLiveHubs = 8

// maxPendingTrace bounds the trace events a ServiceView holds while the
// screen is busy; older ones are counted as missed.
const maxPendingTrace = 4096

// ServiceView follows the service's view on goroutines of its own, so
// that the screen never waits for the network: it finds the Inspector,
// reads every hub's state each StateEvery and whenever the trace says
// membership changed, and streams the trace, reconnecting when the stream
// ends (the emulator restarted). The screen takes what arrived with
// Next, one batch at a time.
type ServiceView struct {
	find  FindInspector
	every time.Duration

	mu      sync.Mutex
	pending serviceBatch
	ready   chan struct{} // holds a token while pending has news
	kick    chan struct{} // asks for the state now

	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup
}

// serviceBatch is what a ServiceView hands the screen: whatever changed
// since the last batch.
type serviceBatch struct {
	found    bool   // the search for the Inspector ended
	from     string // how it was found
	key      string // the access key the service accepted
	findErr  string // why there is none
	states   []protocol.HubState
	hasState bool
	stateErr string
	events   []protocol.TraceEvent
	missed   int
	traceErr string // the trace stream ended or could not start
}

type serviceMsg serviceBatch

// NewServiceView starts following the service that find finds, reading
// state every `every` (DefaultStateEvery when zero), until ctx ends or
// Stop.
func NewServiceView(ctx context.Context, find FindInspector, every time.Duration) *ServiceView {
	if every <= 0 {
		every = DefaultStateEvery
	}
	ctx, cancel := context.WithCancel(ctx)
	v := &ServiceView{find: find, every: every, ready: make(chan struct{}, 1), kick: make(chan struct{}, 1),
		cancel: cancel, done: make(chan struct{})}
	v.wg.Go(func() { v.run(ctx) })
	return v
}

// Stop ends the ServiceView's goroutines and waits for them.
func (v *ServiceView) Stop() {
	v.cancel()
	v.wg.Wait()
	v.stopOnce.Do(func() { close(v.done) })
}

// Next returns a command that waits for the next batch. Update re-arms it
// after each, so exactly one waits at any time; after Stop it returns nil.
func (v *ServiceView) Next() tea.Cmd {
	return func() tea.Msg {
		select {
		case <-v.ready:
		case <-v.done:
			return nil
		}
		v.mu.Lock()
		b := v.pending
		v.pending = serviceBatch{}
		v.mu.Unlock()
		return serviceMsg(b)
	}
}

// update changes the pending batch and says it has news.
func (v *ServiceView) update(fn func(b *serviceBatch)) {
	v.mu.Lock()
	fn(&v.pending)
	v.mu.Unlock()
	select {
	case v.ready <- struct{}{}:
	default:
	}
}

func (v *ServiceView) run(ctx context.Context) {
	f, err := v.find(ctx)
	if ctx.Err() != nil {
		return
	}
	v.update(func(b *serviceBatch) {
		b.found, b.from, b.key = true, f.From, f.AccessKey
		if err != nil {
			b.findErr = err.Error()
		}
	})
	if err != nil {
		return
	}
	ins := f.Inspector
	v.wg.Go(func() { v.trace(ctx, ins) })
	t := time.NewTicker(v.every)
	defer t.Stop()
	for {
		v.readState(ctx, ins)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-v.kick:
		}
	}
}

// readState reads the state of every hub the service holds.
func (v *ServiceView) readState(ctx context.Context, ins Inspector) {
	hubs, err := ins.Hubs(ctx)
	var states []protocol.HubState
	for i := 0; err == nil && i < len(hubs) && i < maxLiveHubs; i++ {
		var st protocol.HubState
		if st, err = ins.HubState(ctx, hubs[i].Name); err == nil {
			states = append(states, st)
		}
	}
	if ctx.Err() != nil {
		return
	}
	v.update(func(b *serviceBatch) {
		b.stateErr = ""
		if err != nil {
			b.stateErr = err.Error()
			return
		}
		b.states, b.hasState = states, true
	})
}

// membershipKinds are the trace events after which the state is read at
// once.
var membershipKinds = map[string]bool{
	protocol.TraceConnected: true, protocol.TraceDisconnected: true,
	protocol.TraceREST: true, protocol.TraceExpired: true,
}

// trace streams the service's trace into the pending batch, starting the
// stream again a moment after it ends.
func (v *ServiceView) trace(ctx context.Context, ins Inspector) {
	wait := 500 * time.Millisecond
	for {
		err := ins.Trace(ctx, func(e protocol.TraceEvent) error {
			v.update(func(b *serviceBatch) {
				b.traceErr = ""
				b.events = append(b.events, e)
				if over := len(b.events) - maxPendingTrace; over > 0 {
					b.events = append(b.events[:0:0], b.events[over:]...)
					b.missed += over
				}
			})
			if membershipKinds[e.Kind] {
				select {
				case v.kick <- struct{}{}:
				default:
				}
			}
			wait = 500 * time.Millisecond
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("the trace stream ended")
		}
		v.update(func(b *serviceBatch) { b.traceErr = err.Error() })
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}
