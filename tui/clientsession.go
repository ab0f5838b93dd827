package tui

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// ClientSession is the Session of real hub connections, built on package
// client. It announces each connection's own Events channel; nothing of its
// own reads or copies events.
type ClientSession struct {
	base  client.Options
	conns chan Source
	done  chan struct{} // closed when Close begins, to free a waiting Open

	closeOnce sync.Once
	mu        sync.Mutex
	clients   []*client.Conn
	byLabel   map[string]*client.Conn
	specs     map[string]ConnSpec // by label, to open a closed one again
	closed    bool
	wg        sync.WaitGroup // the Start goroutines
}

// NewClientSession returns a session whose connections use base, with Hub,
// UserID and extra headers taken from each ConnSpec. Nothing connects until
// Open.
//
// A monitor keeps trying: base.Reconnect defaults to MonitorReconnect
// (never give up) instead of the client's default, and the first connect
// is always retried with it (client.Options.RetryFirstConnect), so that a
// service that is down when the screen starts is watched for until it
// comes up.
func NewClientSession(base client.Options) *ClientSession {
	if base.Reconnect == nil {
		base.Reconnect = MonitorReconnect()
	}
	base.RetryFirstConnect = true
	return &ClientSession{base: base, conns: make(chan Source, 16), done: make(chan struct{}),
		byLabel: map[string]*client.Conn{}, specs: map[string]ConnSpec{}}
}

// MonitorReconnect is the screen's reconnect policy: the official delays
// (0, 2, 10, 30 s) with 20% jitter, then every 30 s or so for as long as
// it runs.
func MonitorReconnect() client.ReconnectPolicy {
	return client.Backoff{Delays: client.OfficialDelays, Jitter: 0.2, Forever: true}
}

// Conns implements Session.
func (s *ClientSession) Conns() <-chan Source { return s.conns }

// Open implements Session: it creates the connection, announces it and
// starts it in the background, so the screen never waits for a negotiate.
// It waits for room to announce, until ctx ends or Close begins.
func (s *ClientSession) Open(ctx context.Context, spec ConnSpec) error {
	o := s.base
	o.Hub = spec.Hub
	o.UserID = spec.User
	o.Header = o.Header.Clone()
	if len(spec.Headers) > 0 && o.Header == nil {
		o.Header = http.Header{}
	}
	for k, v := range spec.Headers {
		o.Header.Set(k, v)
	}
	c, err := client.New(o)
	if err != nil {
		return err
	}
	spec.Name = spec.Label()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Announcing under the lock orders it before Close closes conns.
	err = client.ErrClosed
	if !s.closed {
		select {
		case s.conns <- Source{Spec: spec, Events: c.Events()}:
			err = nil
		case <-s.done:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		_ = c.Close()
		return err
	}
	s.clients = append(s.clients, c)
	s.byLabel[spec.Name] = c
	s.specs[spec.Name] = spec
	s.wg.Go(func() {
		// Failures arrive as events; Start's error adds nothing.
		_ = c.Start(context.WithoutCancel(ctx))
	})
	return nil
}

// CloseConn implements Reconnector: it closes the connection labelled
// label and waits for it and for the Feed to take its last events; Reopen
// opens it again.
func (s *ClientSession) CloseConn(ctx context.Context, label string) error {
	s.mu.Lock()
	c := s.byLabel[label]
	if c == nil {
		s.mu.Unlock()
		return errors.New("close: no open connection " + label)
	}
	delete(s.byLabel, label)
	for i, x := range s.clients {
		if x == c {
			s.clients = append(s.clients[:i], s.clients[i+1:]...)
			break
		}
	}
	s.mu.Unlock()
	// Close waits for the connection's goroutines: a closed connection
	// emits nothing more. Its last events go first: once the Feed has
	// taken them, they are ahead of anything a reopened connection says
	// under the same label.
	err := c.Close()
	if derr := s.drained(ctx, c.Events()); err == nil {
		err = derr
	}
	return err
}

// Reopen implements Reconnector: it closes the connection labelled label,
// if it is open, and opens it again as the same identity at once, skipping
// whatever wait its reconnect policy was in.
func (s *ClientSession) Reopen(ctx context.Context, label string) error {
	s.mu.Lock()
	spec, ok := s.specs[label]
	open := s.byLabel[label] != nil
	s.mu.Unlock()
	if !ok {
		return errors.New("reconnect: no connection " + label)
	}
	if open {
		if err := s.CloseConn(ctx, label); err != nil && !errors.Is(err, client.ErrClosed) {
			return err
		}
	}
	return s.Open(ctx, spec)
}

// drained waits until the Feed has taken every event left in events.
func (s *ClientSession) drained(ctx context.Context, events <-chan client.Event) error {
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for len(events) > 0 {
		select {
		case <-t.C:
		case <-s.done:
			return client.ErrClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close implements Session: it closes every connection, waits for their
// goroutines and closes Conns. A connection stops emitting once Close
// begins, so Close never waits on a reader that has gone.
func (s *ClientSession) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.conns)
	clients := s.clients
	s.mu.Unlock()
	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, c := range clients {
		wg.Go(func() {
			if err := c.Close(); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		})
	}
	wg.Wait()
	s.wg.Wait()
	return errors.Join(errs...)
}

// Invoke implements Invoker with the connection's Call, or Stream for a
// stream, whose items Wait reads and drops: the screen shows them from the
// connection's events.
func (s *ClientSession) Invoke(ctx context.Context, call Call) (Pending, error) {
	s.mu.Lock()
	c := s.byLabel[call.Conn]
	s.mu.Unlock()
	if c == nil {
		return Pending{}, errors.New("invoke: no connection " + call.Conn)
	}
	if !call.Stream {
		cl, err := c.Call(ctx, call.Target, call.Args)
		if err != nil {
			return Pending{}, err
		}
		return Pending{ID: cl.ID(), Wait: func(ctx context.Context) error {
			_, err := cl.Wait(ctx)
			return err
		}}, nil
	}
	st, err := c.Stream(ctx, call.Target, call.Args)
	if err != nil {
		return Pending{}, err
	}
	return Pending{ID: st.ID(), Wait: func(ctx context.Context) error {
		for {
			_, err := st.Next(ctx)
			switch {
			case errors.Is(err, io.EOF):
				return nil
			case err != nil && ctx.Err() != nil:
				st.Close()
				return err
			case err != nil:
				return err
			}
		}
	}}, nil
}

// ClientSender is the Sender of package manage: every message and group
// action goes through Via, the function app or the service REST API that
// the command chose. The screen's chat body is sent as the chat sample's
// body, which the function app expects and the REST API converts.
type ClientSender struct {
	Via manage.Sender
}

// errNoREST says the existence checks need a connection string.
var errNoREST = errors.New("existence check: needs a connection string (--connection-string)")

// Send implements Sender.
func (s *ClientSender) Send(ctx context.Context, out Outgoing) (manage.Outcome, error) {
	if s.Via == nil {
		return manage.Outcome{}, errors.New("send: no function app URL and no connection string")
	}
	return s.Via.Send(ctx, out.Hub, message(out))
}

// message is what Via sends for out.
func message(out Outgoing) manage.Message {
	if out.Chat {
		return manage.Chat(chatBody(out))
	}
	msg := protocol.SignalRMessage{Target: out.Target, Arguments: out.Args}
	route(&msg, out)
	return manage.SignalR(msg)
}

// CheckSend implements SendChecker when Via is the REST API: its existence
// checks say whether anybody could have received out.
func (s *ClientSender) CheckSend(ctx context.Context, out Outgoing) (string, error) {
	rc, ok := s.Via.(*manage.RESTClient)
	if !ok {
		return "", errNoREST
	}
	return rc.CheckSend(ctx, out.Hub, message(out))
}

// chatBody is the chat sample's body for a plain-text message.
func chatBody(out Outgoing) protocol.ChatMessage {
	body := protocol.ChatMessage{Sender: out.Sender, Text: out.Text}
	switch out.To {
	case ToUser:
		body.Recipient = out.Name
	case ToGroup:
		body.GroupName = out.Name
	}
	return body
}

func route(msg *protocol.SignalRMessage, out Outgoing) {
	switch out.To {
	case ToUser:
		msg.UserID = out.Name
	case ToGroup:
		msg.GroupName = out.Name
	case ToConnection:
		msg.ConnectionID = out.Name
	}
}

// Group implements Sender.
func (s *ClientSender) Group(ctx context.Context, a GroupAction) (manage.Outcome, error) {
	if s.Via == nil {
		return manage.Outcome{}, errors.New("group: no function app URL and no connection string")
	}
	act := protocol.SignalRGroupAction{Action: protocol.GroupRemove, GroupName: a.Group, UserID: a.UserID, ConnectionID: a.ConnectionID}
	if a.Add {
		act.Action = protocol.GroupAdd
	}
	return s.Via.Group(ctx, a.Hub, act)
}

// GroupExists implements GroupChecker when Via does (the REST API).
func (s *ClientSender) GroupExists(ctx context.Context, hub, group string) (bool, error) {
	chk, ok := s.Via.(GroupChecker)
	if !ok {
		return false, errNoREST
	}
	return chk.GroupExists(ctx, hub, group)
}
