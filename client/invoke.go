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
	if err := s.write(ctx, protocol.AppendMessage(nil, &m)); err != nil {
		return fmt.Errorf("client: send %s: %w", target, err)
	}
	return nil
}

// Invoke invokes target and waits for its Completion: the raw result, or
// a *HubError carrying the server's error text. If ctx ends first Invoke
// returns its error and forgets the invocation.
func (c *Conn) Invoke(ctx context.Context, target string, args json.RawMessage) (json.RawMessage, error) {
	s, err := c.current()
	if err != nil {
		return nil, err
	}
	p := &pending{done: make(chan struct{})}
	id := c.inv.add(p)
	m := protocol.NewInvocation(target, args)
	m.InvocationID = id
	m.Fields |= protocol.FieldInvocationID
	if err := s.write(ctx, protocol.AppendMessage(nil, &m)); err != nil {
		c.inv.remove(id)
		return nil, fmt.Errorf("client: invoke %s: %w", target, err)
	}
	select {
	case <-p.done:
		if p.err != nil {
			return nil, fmt.Errorf("client: invoke %s: %w", target, p.err)
		}
		return p.res, nil
	case <-ctx.Done():
		c.inv.remove(id)
		return nil, fmt.Errorf("client: invoke %s: %w", target, ctx.Err())
	}
}

// Stream is a server-to-client stream started by Conn.Stream.
type Stream struct {
	c      *Conn
	id     string
	p      *pending
	cancel context.CancelFunc
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
	if err := s.write(ctx, protocol.AppendMessage(nil, &m)); err != nil {
		c.inv.remove(id)
		cancel()
		return nil, fmt.Errorf("client: stream %s: %w", target, err)
	}
	st := &Stream{c: c, id: id, p: p, cancel: cancel}
	stop := context.AfterFunc(ctx, func() {
		if c.inv.remove(id) == nil {
			return // already completed
		}
		p.finish(nil, context.Cause(ctx))
		if !c.track() {
			return
		}
		defer c.wg.Done()
		cm := protocol.Message{Type: protocol.TypeCancelInvocation, Fields: protocol.FieldInvocationID, InvocationID: id}
		if err := s.write(c.ctx, protocol.AppendMessage(nil, &cm)); err != nil {
			c.log.Debug("could not send CancelInvocation", "id", id, "err", err)
		}
	})
	// Release the context watcher once the stream is over, whichever way.
	p.setOnFinish(func() {
		stop()
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

// Close cancels the stream if it is still running.
func (st *Stream) Close() { st.cancel() }
