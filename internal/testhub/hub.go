package testhub

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// Method is one hub method: its name (matched without regard to case, as
// ASP.NET Core does), its parameters and what it does.
type Method struct {
	Name   string
	Params []string
	Stream bool
	Doc    string
	run    func(ctx context.Context, c *conn, args []json.RawMessage, item func(json.RawMessage)) (json.RawMessage, error)
}

// hubException is what a method throws for the client to see: ASP.NET
// Core shows a HubException's message even without detailed errors.
type hubException string

func (e hubException) Error() string { return string(e) }

// errBinding is an argument that does not bind to the parameter's type.
var errBinding = errors.New("argument binding failed")

// Methods are the hub's methods: one returning a value, one adding, one
// streaming, one throwing, two void.
var Methods = []Method{
	{Name: "Echo", Params: []string{"value"}, Doc: "returns its argument",
		run: func(_ context.Context, _ *conn, a []json.RawMessage, _ func(json.RawMessage)) (json.RawMessage, error) {
			return a[0], nil
		}},
	{Name: "Add", Params: []string{"a", "b"}, Doc: "returns a+b",
		run: func(_ context.Context, _ *conn, a []json.RawMessage, _ func(json.RawMessage)) (json.RawMessage, error) {
			x, err1 := number(a[0])
			y, err2 := number(a[1])
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			return json.Marshal(x + y)
		}},
	{Name: "Counter", Params: []string{"count", "delayMs"}, Stream: true, Doc: "streams 1..count, one every delayMs",
		run: func(ctx context.Context, _ *conn, a []json.RawMessage, item func(json.RawMessage)) (json.RawMessage, error) {
			n, err1 := number(a[0])
			d, err2 := number(a[1])
			if err := errors.Join(err1, err2); err != nil {
				return nil, err
			}
			for i := 1; i <= int(n); i++ {
				if err := sleep(ctx, time.Duration(d)*time.Millisecond); err != nil {
					return nil, err
				}
				item(json.RawMessage(strconv.Itoa(i)))
			}
			return nil, nil
		}},
	{Name: "Fail", Params: []string{"message"}, Doc: "throws a HubException with the message",
		run: func(_ context.Context, _ *conn, a []json.RawMessage, _ func(json.RawMessage)) (json.RawMessage, error) {
			var msg string
			if json.Unmarshal(a[0], &msg) != nil {
				msg = string(a[0])
			}
			return nil, hubException(msg)
		}},
	{Name: "Broadcast", Params: []string{"message"}, Doc: "void; sends newMessage(message) to every connection",
		run: func(_ context.Context, c *conn, a []json.RawMessage, _ func(json.RawMessage)) (json.RawMessage, error) {
			m := protocol.NewInvocation("newMessage", json.RawMessage("["+string(a[0])+"]"))
			c.s.broadcast(protocol.AppendMessage(nil, &m))
			return nil, nil
		}},
	{Name: "Sleep", Params: []string{"ms"}, Doc: "void; returns after ms milliseconds",
		run: func(ctx context.Context, _ *conn, a []json.RawMessage, _ func(json.RawMessage)) (json.RawMessage, error) {
			ms, err := number(a[0])
			if err != nil {
				return nil, err
			}
			return nil, sleep(ctx, time.Duration(ms)*time.Millisecond)
		}},
}

func number(raw json.RawMessage) (float64, error) {
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil {
		return 0, errBinding
	}
	return f, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func lookup(name string) *Method {
	for i := range Methods {
		if strings.EqualFold(Methods[i].Name, name) {
			return &Methods[i]
		}
	}
	return nil
}

// invoke runs one invocation on its own goroutine and answers it, with
// ASP.NET Core's texts for the errors a client can provoke. A non-blocking
// invocation (no id) runs and is never answered.
func (c *conn) invoke(m protocol.Message) {
	id := m.InvocationID
	streaming := m.Type == protocol.TypeStreamInvocation
	fail := func(text string) {
		if id != "" {
			c.sendMessage(new(protocol.NewCompletion(id, nil, text)))
		}
	}
	meth := lookup(m.Target)
	var args []json.RawMessage
	if meth == nil {
		fail("Failed to invoke '" + m.Target + "' due to an error on the server. HubException: Method does not exist.")
		return
	}
	if json.Unmarshal(m.Arguments, &args) != nil || len(args) != len(meth.Params) {
		// InvalidDataException: its text is shown only with detailed errors.
		fail("Failed to invoke '" + m.Target + "' due to an error on the server.")
		return
	}
	switch {
	case streaming && !meth.Stream:
		fail("The client attempted to invoke the non-streaming '" + m.Target + "' method with a streaming invocation.")
		return
	case !streaming && meth.Stream:
		fail("The client attempted to invoke the streaming '" + m.Target + "' method with a non-streaming invocation.")
		return
	}
	ctx, cancel := context.WithCancel(c.ctx)
	if streaming {
		c.mu.Lock()
		c.streams[id] = cancel
		c.mu.Unlock()
	}
	if !c.s.track() {
		cancel()
		return
	}
	go func() {
		defer c.s.wg.Done()
		defer cancel()
		item := func(v json.RawMessage) {
			c.sendMessage(&protocol.Message{Type: protocol.TypeStreamItem, Fields: protocol.FieldInvocationID | protocol.FieldItem, InvocationID: id, Item: v})
		}
		res, err := meth.run(ctx, c, args, item)
		if streaming {
			c.mu.Lock()
			delete(c.streams, id)
			c.mu.Unlock()
		}
		var he hubException
		switch {
		case ctx.Err() != nil:
			// Cancelled by the client, or the connection ended: ASP.NET
			// Core sends nothing more for it.
		case errors.As(err, &he):
			fail("An unexpected error occurred invoking '" + m.Target + "' on the server. HubException: " + string(he))
		case errors.Is(err, errBinding):
			fail("Failed to invoke '" + m.Target + "' due to an error on the server.")
		case err != nil:
			fail("An unexpected error occurred invoking '" + m.Target + "' on the server.")
		case id != "":
			c.sendMessage(new(protocol.NewCompletion(id, res, "")))
		}
		c.s.log.Info("invoked", "connectionId", c.id, "target", m.Target, "invocationId", id, "error", err)
	}()
}

func itoa(n int) string { return strconv.Itoa(n) }
