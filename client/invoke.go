package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/sigr-dev/sigr/protocol"
)

// pending is an invocation waiting for its Completion (and, for a stream,
// its items).
type pending struct {
	items chan json.RawMessage // nil for Invoke
	done  chan struct{}        // closed once, when finished

	mu       sync.Mutex
	finished bool
	onFinish func() // releases a stream's context watcher
	res      json.RawMessage
	err      error
}

func (p *pending) finish(res json.RawMessage, err error) {
	p.mu.Lock()
	if p.finished {
		p.mu.Unlock()
		return
	}
	p.finished = true
	p.res, p.err = res, err
	hook := p.onFinish
	close(p.done)
	p.mu.Unlock()
	if hook != nil {
		hook()
	}
}

// setOnFinish installs fn to run when p finishes, or runs it now.
func (p *pending) setOnFinish(fn func()) {
	p.mu.Lock()
	if !p.finished {
		p.onFinish = fn
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	fn()
}

// invocations tracks the Conn's outstanding invocations by id.
type invocations struct {
	mu      sync.Mutex
	next    uint64
	pending map[string]*pending
}

func (iv *invocations) add(p *pending) string {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	id := strconv.FormatUint(iv.next, 10)
	iv.next++
	iv.pending[id] = p
	return id
}

func (iv *invocations) remove(id string) *pending {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	p := iv.pending[id]
	delete(iv.pending, id)
	return p
}

func (iv *invocations) get(id string) *pending {
	iv.mu.Lock()
	defer iv.mu.Unlock()
	return iv.pending[id]
}

// failAll ends every outstanding invocation with err, as the official
// clients do when the connection closes.
func (iv *invocations) failAll(err error) {
	iv.mu.Lock()
	ps := iv.pending
	iv.pending = map[string]*pending{}
	iv.mu.Unlock()
	for _, p := range ps {
		p.finish(nil, err)
	}
}

// deliver routes a Completion or StreamItem to its invocation. A stream
// item waits for the stream's reader (backpressure, nothing dropped); it
// returns false only when the Conn is closing.
func (iv *invocations) deliver(m *protocol.Message, closing <-chan struct{}) bool {
	switch m.Type {
	case protocol.TypeCompletion:
		p := iv.remove(m.InvocationID)
		if p == nil {
			return true
		}
		if m.Has(protocol.FieldError) {
			p.finish(nil, &HubError{Message: m.Error})
		} else {
			p.finish(m.Result, nil)
		}
	case protocol.TypeStreamItem:
		p := iv.get(m.InvocationID)
		if p == nil {
			return true
		}
		if p.items == nil {
			iv.remove(m.InvocationID)
			p.finish(nil, fmt.Errorf("Unexpected message type: %d", int(m.Type)))
			return true
		}
		select {
		case p.items <- m.Item:
		case <-p.done:
		case <-closing:
			return false
		}
	}
	return true
}

// HubError is an error the server returned for an invocation, verbatim.
type HubError struct{ Message string }

func (e *HubError) Error() string { return e.Message }

// current returns the connected session, or an error that says why there
// is none.
func (c *Conn) current() (*session, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrClosed
	}
	if c.sess == nil || c.state != Connected {
		return nil, fmt.Errorf("client: not connected (state %s)", c.state)
	}
	return c.sess, nil
}

// Send invokes target on the server without waiting for a result
// (a non-blocking invocation). args is a JSON array; nil means none.
// In Azure serverless mode the service drops clients that send, unless
// upstream is configured.
func (c *Conn) Send(ctx context.Context, target string, args json.RawMessage) error {
	s, err := c.current()
	if err != nil {
		return err
	}
	m := protocol.NewInvocation(target, args)
	if err := s.send(ctx, &m); err != nil {
		return fmt.Errorf("client: send %s: %w", target, err)
	}
	return nil
}

// Invoke invokes target and waits for its Completion: the raw result, or
// a *HubError carrying the server's error text. If ctx ends first Invoke
// returns its error and forgets the invocation.
func (c *Conn) Invoke(ctx context.Context, target string, args json.RawMessage) (json.RawMessage, error) {
	cl, err := c.Call(ctx, target, args)
	if err != nil {
		return nil, err
	}
	return cl.Wait(ctx)
}

// Call is an invocation started by Conn.Call and not yet waited for.
type Call struct {
	c      *Conn
	id     string
	target string
	p      *pending
}

// Call writes an invocation of target with args (a JSON array; nil means
// none) and returns without waiting for its Completion, so that a caller
// that shows traffic, as sigr's screen does, knows the invocation id before
// the Completion carrying it arrives among the connection's events. Wait
// collects the result. Invoke is Call and Wait in one.
func (c *Conn) Call(ctx context.Context, target string, args json.RawMessage) (*Call, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	p := &pending{done: make(chan struct{})}
	id := c.inv.add(p)
	m := protocol.NewInvocation(target, args)
	m.InvocationID = id
	m.Fields |= protocol.FieldInvocationID
	if err := s.send(ctx, &m); err != nil {
		c.inv.remove(id)
		return nil, fmt.Errorf("client: invoke %s: %w", target, err)
	}
	return &Call{c: c, id: id, target: target, p: p}, nil
}

// ID returns the invocation id the invocation was written with; its
// Completion carries the same id.
func (cl *Call) ID() string { return cl.id }

// Wait waits for the Completion: the raw result (nil for a void method),
// a *HubError carrying the server's error text, or why none came (the
// connection closed). If ctx ends first Wait returns its error and forgets
// the invocation: a Completion that arrives later is only an event.
func (cl *Call) Wait(ctx context.Context) (json.RawMessage, error) {
	select {
	case <-cl.p.done:
		if cl.p.err != nil {
			return nil, fmt.Errorf("client: invoke %s: %w", cl.target, cl.p.err)
		}
		return cl.p.res, nil
	case <-ctx.Done():
		cl.c.inv.remove(cl.id)
		return nil, fmt.Errorf("client: invoke %s: %w", cl.target, ctx.Err())
	}
}

// Stream is a server-to-client stream started by Conn.Stream.
type Stream struct {
	c      *Conn
	id     string
	p      *pending
	cancel context.CancelFunc
	// cancelled is closed once the CancelInvocation is written (or found
	// unneeded: the stream had ended, or the connection is closing).
	cancelled chan struct{}
}

// Stream starts a streaming invocation of target. Items arrive through
// Next until the server's Completion. Cancelling ctx (or calling Close)
// sends a CancelInvocation to the server.
func (c *Conn) Stream(ctx context.Context, target string, args json.RawMessage) (*Stream, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &pending{items: make(chan json.RawMessage, 16), done: make(chan struct{})}
	id := c.inv.add(p)
	m := protocol.NewInvocation(target, args)
	m.Type = protocol.TypeStreamInvocation
	m.InvocationID = id
	m.Fields |= protocol.FieldInvocationID
	if err := s.send(ctx, &m); err != nil {
		c.inv.remove(id)
		cancel()
		return nil, fmt.Errorf("client: stream %s: %w", target, err)
	}
	st := &Stream{c: c, id: id, p: p, cancel: cancel, cancelled: make(chan struct{})}
	stop := context.AfterFunc(ctx, func() {
		defer close(st.cancelled)
		if c.inv.remove(id) == nil {
			return // already completed
		}
		p.finish(nil, context.Cause(ctx))
		if !c.track() {
			return
		}
		defer c.wg.Done()
		cm := protocol.Message{Type: protocol.TypeCancelInvocation, Fields: protocol.FieldInvocationID, InvocationID: id}
		if err := s.write(c.ctx, c.wp.encodeOwn(&cm)); err != nil {
			c.log.Debug("could not send CancelInvocation", "id", id, "err", err)
		}
	})
	// Release the context watcher once the stream is over, whichever way.
	p.setOnFinish(func() {
		if stop() {
			// The watcher will never run, so nothing is left to write.
			close(st.cancelled)
		}
		cancel()
	})
	return st, nil
}

// Next returns the next item, io.EOF when the stream completed normally,
// or the error that ended it (a *HubError, a closed connection, a
// cancellation).
func (st *Stream) Next(ctx context.Context) (json.RawMessage, error) {
	// Items that arrived before the end are delivered first.
	select {
	case it := <-st.p.items:
		return it, nil
	default:
	}
	select {
	case it := <-st.p.items:
		return it, nil
	case <-st.p.done:
		select {
		case it := <-st.p.items:
			return it, nil
		default:
		}
		if st.p.err != nil {
			if errors.Is(st.p.err, context.Canceled) {
				return nil, st.p.err
			}
			return nil, fmt.Errorf("client: stream: %w", st.p.err)
		}
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// ID returns the invocation id of the stream; its StreamItems and
// Completion carry the same id.
func (st *Stream) ID() string { return st.id }

// Close cancels the stream if it is still running, and returns once the
// CancelInvocation is written (or cannot be: the connection is closing),
// so that a program may exit right after it.
func (st *Stream) Close() {
	st.cancel()
	<-st.cancelled
}

// send encodes m in the connection's protocol and writes it.
func (s *session) send(ctx context.Context, m *protocol.Message) error {
	rec, err := s.c.wp.encode(m)
	if err != nil {
		return err
	}
	return s.write(ctx, rec)
}
