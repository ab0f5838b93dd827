package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/cutproxy"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// TestMessagePackEachTransport connects with the MessagePack protocol over
// WebSockets and long polling, beside a JSON connection of the same user:
// both get the same messages with the same values, binary ones as
// {"$binary":…}; the raw records are MessagePack.
func TestMessagePackEachTransport(t *testing.T) {
	st := startStack(t)
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range []string{protocol.TransportWebSockets, protocol.TransportLongPolling} {
		t.Run(tr, func(t *testing.T) {
			user := "mp-" + strings.ToLower(tr)
			mp := dial(t, client.Options{URL: st.FunctionsURL, UserID: user, Transports: []string{tr}, Protocol: protocol.ProtocolMessagePack})
			js := dial(t, client.Options{URL: st.FunctionsURL, UserID: user, Transports: []string{tr}})
			ev := await(t, mp, "connected", isState(client.Connected))
			if ev.Transport != tr {
				t.Fatalf("transport %q, want %q", ev.Transport, tr)
			}
			waitRegistered(t, st, "chat", ev.ConnectionID)
			waitRegistered(t, st, "chat", await(t, js, "connected", isState(client.Connected)).ConnectionID)
			args := []string{`[1,"two",{"three":[3.5,null,true]}]`, `[{"$binary":"AQID"}]`, `["` + strings.Repeat("é", 3000) + `"]`}
			for _, a := range args {
				if err := rc.SendToUser(context.Background(), "chat", user, "n", json.RawMessage(a)); err != nil {
					t.Fatal(err)
				}
				got := await(t, mp, "n", isTarget("n"))
				want := await(t, js, "n", isTarget("n"))
				if string(got.Message.Arguments) != string(want.Message.Arguments) || string(got.Message.Arguments) != a {
					t.Fatalf("messagepack %s, json %s, sent %s", got.Message.Arguments, want.Message.Arguments, a)
				}
				if r, _ := got.Message.Header("route"); r != "user:"+user {
					t.Fatalf("route header %q", r)
				}
				if len(got.Raw) == 0 || got.Raw[0]&0xf0 != 0x90 {
					t.Fatalf("raw record %x is not a MessagePack array", got.Raw)
				}
			}
		})
	}
}

// TestMessagePackSkipsServerSentEvents: a MessagePack connection limited
// to Server-Sent Events has no transport, and says what the server offers.
func TestMessagePackSkipsServerSentEvents(t *testing.T) {
	st := startStack(t)
	c, err := client.New(client.Options{URL: st.FunctionsURL, Transports: []string{protocol.TransportServerSentEvents},
		Protocol: protocol.ProtocolMessagePack, Reconnect: client.NoReconnect})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = c.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "None of the transports supported by the client are supported by the server") {
		t.Fatalf("Start: %v", err)
	}
	if _, err := client.New(client.Options{URL: st.FunctionsURL, Protocol: "xml"}); err == nil {
		t.Fatal("an unknown protocol was accepted")
	}
}

// TestMessagePackInvokeUpstream invokes the built-in hub's echo through
// the emulator's upstream: the invocation goes up as application/x-msgpack
// and the Completion comes back as MessagePack; a server-to-client stream
// is refused in MessagePack too.
func TestMessagePackInvokeUpstream(t *testing.T) {
	st := startStack(t)
	for _, tr := range []string{protocol.TransportWebSockets, protocol.TransportLongPolling} {
		t.Run(tr, func(t *testing.T) {
			c := dial(t, client.Options{URL: st.FunctionsURL, UserID: "inv", Transports: []string{tr}, Protocol: protocol.ProtocolMessagePack})
			await(t, c, "connected", isState(client.Connected))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := c.Invoke(ctx, "echo", json.RawMessage(`[{"deep":[1,"two",null,{"$binary":"/wA="}]}]`))
			if err != nil || string(res) != `{"deep":[1,"two",null,{"$binary":"/wA="}]}` {
				t.Fatalf("echo = %s, %v", res, err)
			}
			_, err = c.Invoke(ctx, "sendToUser", json.RawMessage(`[1]`))
			var he *client.HubError
			if !errors.As(err, &he) || !strings.Contains(he.Message, "sendToUser takes 2 argument(s)") {
				t.Fatalf("error = %v", err)
			}
			if _, err := c.Invoke(ctx, "echo", json.RawMessage(`[1,`)); err == nil {
				t.Fatal("invalid JSON arguments were sent")
			}
		})
	}
}

// TestMessagePackStatefulReconnect cuts the network under a stateful
// MessagePack connection while messages are sent: it resumes (Sequence
// and Ack in MessagePack) and every message arrives once, in order.
func TestMessagePackStatefulReconnect(t *testing.T) {
	cutter := cutproxy.New(t)
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:    "127.0.0.1:0",
		FunctionsAddr:  "127.0.0.1:0",
		ClientEndpoint: "http://" + cutter.Addr(),
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cutter.SetTarget(st.ServiceURL[len("http://"):])
	c := dial(t, client.Options{URL: st.FunctionsURL, UserID: "sfmp", StatefulReconnect: true, AckInterval: 50 * time.Millisecond,
		Protocol: protocol.ProtocolMessagePack})
	first := await(t, c, "connected", isState(client.Connected))
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(from, to int) {
		for i := from; i <= to; i++ {
			if err := rc.SendToUser(context.Background(), "chat", "sfmp", "n", json.RawMessage(fmt.Sprint("[", i, "]"))); err != nil {
				t.Fatal(err)
			}
		}
	}
	var got []int
	resumes := 0
	collect := func(upTo int) {
		t.Helper()
		for len(got) < upTo {
			ev := await(t, c, "a number or a state", func(ev client.Event) bool {
				return ev.Kind == client.EventState || isTarget("n")(ev)
			})
			if ev.Kind == client.EventState {
				if ev.State != client.Connected || !ev.Resumed || ev.ConnectionID != first.ConnectionID {
					t.Fatalf("state %+v: want only Connected with Resumed and the same connection id", ev)
				}
				resumes++
				continue
			}
			var n []int
			if err := json.Unmarshal(ev.Message.Arguments, &n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n[0])
		}
	}
	send(1, 20)
	collect(10)
	cutter.Cut()
	send(21, 40)
	collect(40)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("received %v: want 1..40, in order, once each", got)
		}
	}
	if resumes != 1 || c.ConnectionID() != first.ConnectionID {
		t.Fatalf("%d resumes, connection %q (was %q); want 1 resume of the same connection", resumes, c.ConnectionID(), first.ConnectionID)
	}
	// An invocation after the resume still reaches the upstream.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := c.Invoke(ctx, "echo", json.RawMessage(`["after"]`)); err != nil || string(res) != `"after"` {
		t.Fatalf("echo after resume = %s, %v", res, err)
	}
}

// TestMessagePackReadLimit: a MessagePack record over Options.ReadLimit
// ends the connection with an error that names the limit.
func TestMessagePackReadLimit(t *testing.T) {
	st := startStack(t)
	c := dial(t, client.Options{URL: st.FunctionsURL, UserID: "big", Protocol: protocol.ProtocolMessagePack,
		ReadLimit: 4096, Transports: []string{protocol.TransportLongPolling}})
	ev := await(t, c, "connected", isState(client.Connected))
	waitRegistered(t, st, "chat", ev.ConnectionID)
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.SendToUser(context.Background(), "chat", "big", "n", json.RawMessage(`["`+strings.Repeat("x", 3000)+`","`+strings.Repeat("y", 3000)+`"]`)); err != nil {
		t.Fatal(err)
	}
	ev = await(t, c, "the connection to end", func(ev client.Event) bool {
		return ev.Kind == client.EventState && ev.State != client.Connected && ev.Err != nil
	})
	if !errors.Is(ev.Err, client.ErrReadLimit) {
		t.Fatalf("error %v, want one wrapping ErrReadLimit", ev.Err)
	}
}
