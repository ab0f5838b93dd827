package hostile

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
)

// loadRows are misbehaving crowds: a client that stops reading, and a
// thousand clients reconnecting at once.
func loadRows() []row {
	return []row{
		{area: "load", input: "a client that never reads while 200 messages of 64 KiB are broadcast (queue of 8)",
			outcome: "that connection is closed (`outgoing queue ... is full`); a reading client on the same hub gets every message",
			check: func(t *testing.T, e *env) {
				st := e.tight()
				slow := rawConn(t, st, "slowpoke", false) // never read again
				_ = slow
				c, err := client.New(client.Options{Access: access(t, st), UserID: "reader", Reconnect: client.NoReconnect, HTTPClient: httpc(t)})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if err := c.Start(ctxFor(t, 5*time.Second)); err != nil {
					t.Fatal(err)
				}
				const n = 200
				var got atomic.Int64
				done := make(chan struct{})
				go func() {
					defer close(done)
					for ev := range c.Events() {
						if ev.Kind == client.EventMessage && ev.Message.Target == "big" {
							if got.Add(1) == n {
								return
							}
						}
					}
				}()
				rest, _ := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{HTTPClient: httpc(t)})
				arg, _ := json.Marshal([]string{strings.Repeat("z", 60<<10)})
				for i := 0; i < n; i++ {
					if err := rest.Broadcast(ctxFor(t, 5*time.Second), "chat", "big", arg); err != nil {
						t.Fatal(err)
					}
					// The queue is 8 deep: pace the sends so the reading client
					// keeps up while the sleeper's socket buffers fill.
					if i%4 == 3 {
						time.Sleep(2 * time.Millisecond)
					}
				}
				select {
				case <-done:
				case <-time.After(15 * time.Second):
					t.Fatalf("the reading client got %d of %d", got.Load(), n)
				}
				exists, err := rest.UserExists(ctxFor(t, 5*time.Second), "chat", "slowpoke")
				if err != nil || exists {
					t.Fatalf("the non-reading client is still connected (%v)", err)
				}
			}},
		{area: "load", input: "reconnect storm: 1 000 connected clients all told to reconnect at once (REST :closeConnections, allowReconnect)",
			outcome: "every client is back within 30 s on a new connection; the emulator keeps answering",
			check: func(t *testing.T, e *env) {
				if testing.Short() {
					t.Skip("1 000 connections")
				}
				st := startStack(t, nil)
				defer st.Close()
				const n = 1000
				tr := &http.Transport{MaxIdleConnsPerHost: 64}
				defer tr.CloseIdleConnections()
				hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
				conns := make([]*client.Conn, n)
				var up, back atomic.Int64
				var wg sync.WaitGroup
				sem := make(chan struct{}, 64)
				for i := range conns {
					c, err := client.New(client.Options{Access: access(t, st), UserID: "storm", EventBuffer: 8, HTTPClient: hc,
						Reconnect: client.Backoff{Delays: []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second}, Jitter: 0.5, Forever: true}})
					if err != nil {
						t.Fatal(err)
					}
					conns[i] = c
					wg.Add(1)
					go func() {
						defer wg.Done()
						connected := 0
						for ev := range c.Events() {
							if ev.Kind == client.EventState && ev.State == client.Connected {
								connected++
								if connected == 1 {
									up.Add(1)
								} else if connected == 2 {
									back.Add(1)
								}
							}
						}
					}()
				}
				defer func() {
					var cw sync.WaitGroup
					for _, c := range conns {
						cw.Add(1)
						sem <- struct{}{}
						go func() { defer cw.Done(); defer func() { <-sem }(); _ = c.Close() }()
					}
					cw.Wait()
					wg.Wait()
				}()
				var sw sync.WaitGroup
				for _, c := range conns {
					sw.Add(1)
					sem <- struct{}{}
					go func() {
						defer sw.Done()
						defer func() { <-sem }()
						if err := c.Start(ctxFor(t, 30*time.Second)); err != nil {
							t.Errorf("start: %v", err)
						}
					}()
				}
				sw.Wait()
				// Start returns once Connected is in the event channel; the
				// goroutine that counts it may not have run yet.
				for deadline := time.Now().Add(5 * time.Second); up.Load() < n && time.Now().Before(deadline); {
					time.Sleep(10 * time.Millisecond)
				}
				if up.Load() != n {
					t.Fatalf("%d of %d connected", up.Load(), n)
				}
				code, _, body := restCall(t, st, http.MethodPost, "/api/hubs/chat/:closeConnections?reason=storm", nil, "")
				if code != http.StatusNoContent {
					t.Fatalf("closeConnections: %d %s", code, body)
				}
				deadline := time.Now().Add(30 * time.Second)
				for back.Load() < n && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				if back.Load() != n {
					t.Fatalf("%d of %d reconnected within 30 s", back.Load(), n)
				}
				rest, _ := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{HTTPClient: hc})
				if ok, err := rest.UserExists(context.Background(), "chat", "storm"); err != nil || !ok {
					t.Fatalf("the emulator does not answer after the storm: %v %v", ok, err)
				}
			}},
	}
}
