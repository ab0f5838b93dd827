package client_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// TestEmulatorConcurrentLargeMessages sends large messages concurrently,
// so that they queue up together in the emulator, over each transport
// with and without stateful reconnect, and checks that each arrives
// exactly once on the one connection: none may be packed with the others
// into a payload the client cannot read. The largest is built from a REST
// body of exactly 1 MiB, the most the service accepts, which the client's
// default read limit must take.
func TestEmulatorConcurrentLargeMessages(t *testing.T) {
	st := startStack(t)
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 8
	const size = 600 << 10
	pad := strings.Repeat("x", size)
	for _, tr := range []string{protocol.TransportWebSockets, protocol.TransportServerSentEvents, protocol.TransportLongPolling} {
		for _, stateful := range []bool{false, true} {
			name := tr
			if stateful {
				name += "/stateful"
			}
			t.Run(name, func(t *testing.T) {
				user := "big-" + strings.ReplaceAll(strings.ToLower(name), "/", "-")
				c := dial(t, client.Options{URL: st.FunctionsURL, UserID: user, Transports: []string{tr},
					StatefulReconnect: stateful, AckInterval: 20 * time.Millisecond})
				ev := await(t, c, "connected", isState(client.Connected))
				waitRegistered(t, st, "chat", ev.ConnectionID)

				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						args := `["` + strconv.Itoa(i) + `","` + pad + `"]`
						if err := rc.SendToUser(ctx, "chat", user, "big", json.RawMessage(args)); err != nil {
							t.Errorf("send %d: %v", i, err)
						}
					})
				}
				// The largest body the service takes: {"target":"max","arguments":["xx…"]}
				// of exactly 1 MiB.
				const envelope = len(`{"target":"max","arguments":[""]}`)
				maxBody := `{"target":"max","arguments":["` + strings.Repeat("y", 1<<20-envelope) + `"]}`
				if len(maxBody) != 1<<20 {
					t.Fatalf("body of %d bytes", len(maxBody))
				}
				wg.Go(func() {
					var m protocol.SignalRMessage
					if err := json.Unmarshal([]byte(maxBody), &m); err != nil {
						t.Error(err)
						return
					}
					m.UserID = user
					if _, err := rc.Send(ctx, "chat", manage.SignalR(m)); err != nil {
						t.Errorf("send of 1 MiB: %v", err)
					}
				})
				wg.Wait()
				if t.Failed() {
					return
				}
				if err := rc.SendToUser(ctx, "chat", user, "end", nil); err != nil {
					t.Fatal(err)
				}

				seen := map[string]int{}
				gotMax, gotEnd := 0, false
				timer := time.NewTimer(30 * time.Second)
				defer timer.Stop()
				for !gotEnd {
					select {
					case ev, ok := <-c.Events():
						if !ok {
							t.Fatal("events closed")
						}
						switch {
						case ev.Kind == client.EventState && ev.State != client.Connected:
							t.Fatalf("connection %s: %v", ev.State, ev.Err)
						case ev.Kind == client.EventError:
							t.Fatalf("error event: %v", ev.Err)
						case ev.Kind != client.EventMessage || ev.Message.Type != protocol.TypeInvocation:
						case ev.Message.Target == "big":
							var args []string
							if err := json.Unmarshal(ev.Message.Arguments, &args); err != nil || len(args) != 2 || len(args[1]) != size {
								t.Fatalf("big message arguments do not decode (%v)", err)
							}
							seen[args[0]]++
						case ev.Message.Target == "max":
							gotMax++
						case ev.Message.Target == "end":
							gotEnd = true
						}
					case <-timer.C:
						t.Fatalf("after 30 s: big messages %v, 1 MiB ones %d, end %v", seen, gotMax, gotEnd)
					}
				}
				// Each send returned before "end" was sent, and a connection
				// delivers in order: everything has arrived by now.
				if len(seen) != n || gotMax != 1 {
					t.Errorf("got big messages %v and %d of 1 MiB; want %d once each and 1", seen, gotMax, n)
				}
				for id, k := range seen {
					if k != 1 {
						t.Errorf("message %s arrived %d times", id, k)
					}
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
