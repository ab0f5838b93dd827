package tui

import (
	"context"
	"errors"
	"net/http"
	"sync"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// ClientSession is the Session of real hub connections, built on package
// client. One goroutine per connection forwards its events, converted, to
// the one Events channel; the Feed batches them for the screen.
type ClientSession struct {
	base   client.Options
	events chan Event
	done   chan struct{}

	mu     sync.Mutex
	conns  []*client.Conn
	closed bool
	wg     sync.WaitGroup
}

// NewClientSession returns a session whose connections use base, with Hub,
// UserID and extra headers taken from each ConnSpec. Nothing connects until
// Open.
func NewClientSession(base client.Options) *ClientSession {
	return &ClientSession{base: base, events: make(chan Event, 4096), done: make(chan struct{})}
}

// Events implements Session.
func (s *ClientSession) Events() <-chan Event { return s.events }

// Open implements Session: it creates the connection and starts it in the
// background, so the screen never waits for a negotiate.
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
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return client.ErrClosed
	}
	s.conns = append(s.conns, c)
	s.wg.Add(2)
	s.mu.Unlock()

	label := spec.Label()
	go func() {
		defer s.wg.Done()
		s.forward(c, spec, label)
	}()
	go func() {
		defer s.wg.Done()
		// Failures arrive as events; Start's error adds nothing.
		_ = c.Start(context.WithoutCancel(ctx))
	}()
	return nil
}

// forward converts every event of c and hands it to the session channel
// until c's channel closes. While the session is closing it keeps draining
// but drops, so that Close never waits on a screen that has gone.
func (s *ClientSession) forward(c *client.Conn, spec ConnSpec, label string) {
	for ev := range c.Events() {
		te := Event{Time: ev.Time, Conn: label, Hub: spec.Hub, User: spec.User}
		switch ev.Kind {
		case client.EventMessage:
			te.Kind = EventMessage
			te.Msg, te.Raw = ev.Message, ev.Raw
		case client.EventState:
			te.Kind = EventState
			te.State = convState(ev.State)
			te.Transport, te.ConnectionID = ev.Transport, ev.ConnectionID
			te.Attempt, te.RetryIn = ev.Attempt, ev.RetryIn
			te.Resumed = ev.Resumed
			te.Token = ev.AccessToken
			if ev.Err != nil {
				te.Err = ev.Err.Error()
			}
		default:
			continue
		}
		select {
		case s.events <- te:
		case <-s.done:
		}
	}
}

func convState(st client.State) ConnState {
	switch st {
	case client.Connecting:
		return StateConnecting
	case client.Connected:
		return StateConnected
	case client.Reconnecting:
		return StateReconnecting
	}
	return StateDisconnected
}

// Close implements Session: it closes every connection, waits for their
// goroutines and closes Events.
func (s *ClientSession) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := s.conns
	s.mu.Unlock()
	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, c := range conns {
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
	close(s.events)
	return errors.Join(errs...)
}

// ClientSender is the Sender of package manage: every message and group
// action goes through Via, the function app or the service REST API that
// the command chose. The screen's chat body is sent as the chat sample's
// body, which the function app expects and the REST API converts.
type ClientSender struct {
	Via manage.Sender
}

// errNoREST says the existence check needs a connection string.
var errNoREST = errors.New("group check: needs a connection string (--connection-string)")

// Send implements Sender.
func (s *ClientSender) Send(ctx context.Context, out Outgoing) error {
	if s.Via == nil {
		return errors.New("send: no function app URL and no connection string")
	}
	var m manage.Message
	if out.Chat {
		m = manage.Chat(chatBody(out))
	} else {
		msg := protocol.SignalRMessage{Target: out.Target, Arguments: out.Args}
		route(&msg, out)
		m = manage.SignalR(msg)
	}
	_, err := s.Via.Send(ctx, out.Hub, m)
	return err
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
func (s *ClientSender) Group(ctx context.Context, a GroupAction) error {
	if s.Via == nil {
		return errors.New("group: no function app URL and no connection string")
	}
	act := protocol.SignalRGroupAction{Action: protocol.GroupRemove, GroupName: a.Group, UserID: a.UserID, ConnectionID: a.ConnectionID}
	if a.Add {
		act.Action = protocol.GroupAdd
	}
	_, err := s.Via.Group(ctx, a.Hub, act)
	return err
}

// GroupExists implements GroupChecker when Via does (the REST API).
func (s *ClientSender) GroupExists(ctx context.Context, hub, group string) (bool, error) {
	chk, ok := s.Via.(GroupChecker)
	if !ok {
		return false, errNoREST
	}
	return chk.GroupExists(ctx, hub, group)
}
