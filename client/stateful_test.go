package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/cutproxy"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// TestStatefulReconnectResumes cuts the network under a stateful
// connection twice, sending while it is cut: the client resumes the same
// connection (a Connected event with Resumed, the same id, no
// Reconnecting) and every message arrives once, in order.
func TestStatefulReconnectResumes(t *testing.T) {
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

	c := dial(t, client.Options{URL: st.FunctionsURL, UserID: "sf", StatefulReconnect: true, AckInterval: 50 * time.Millisecond})
	first := await(t, c, "connected", isState(client.Connected))
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(from, to int) {
		for i := from; i <= to; i++ {
			if err := rc.SendToUser(context.Background(), "chat", "sf", "n", json.RawMessage(fmt.Sprint("[", i, "]"))); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := []int{}
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
	collect(30)
	cutter.Cut()
	send(41, 60)
	collect(60)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("received %v: want 1..60, in order, once each", got)
		}
	}
	if resumes != 2 || c.ConnectionID() != first.ConnectionID || c.Transport() != protocol.TransportWebSockets {
		t.Fatalf("%d resumes, connection %q (was %q); want 2 resumes of the same connection", resumes, c.ConnectionID(), first.ConnectionID)
	}
}
