package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// answeringHub is a fake hub that answers Echo with its first argument,
// streams one item forever for Forever, and reports every record it reads.
func answeringHub(t *testing.T) (*fakeHub, chan protocol.Message) {
	got := make(chan protocol.Message, 64)
	f := newFakeHub(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		if !serverHandshake(t, ctx, c, "{}\x1e") {
			return
		}
		for {
			_, p, err := c.Read(ctx)
			if err != nil {
				return
			}
			for rec := range strings.SplitSeq(strings.TrimSuffix(string(p), "\x1e"), "\x1e") {
				m, err := protocol.ParseMessage([]byte(rec), protocol.Lenient)
				if err != nil {
					t.Errorf("server: %v", err)
					continue
				}
				if m.Type == protocol.TypePing {
					continue
				}
				got <- m
				var reply string
				switch {
				case m.Type == protocol.TypeInvocation && m.Target == "Echo":
					arg := strings.TrimSuffix(strings.TrimPrefix(string(m.Arguments), "["), "]")
					reply = `{"type":3,"invocationId":"` + m.InvocationID + `","result":` + arg + `}`
				case m.Type == protocol.TypeStreamInvocation && m.Target == "Forever":
					reply = `{"type":2,"invocationId":"` + m.InvocationID + `","item":"tick"}`
				}
				if reply != "" {
					_ = c.Write(ctx, websocket.MessageText, []byte(reply+"\x1e"))
				}
			}
		}
	})
	return f, got
}

// TestCallIDMatchesCompletion: Call returns the id before the Completion,
// the Completion event carries that id, and Wait returns its result.
func TestCallIDMatchesCompletion(t *testing.T) {
	f, got := answeringHub(t)
	c := startConn(t, testOptions(f.URL()))
	ctx := context.Background()
	seen := map[string]bool{}
	for _, arg := range []string{`"a"`, `{"b":1}`} {
		cl, err := c.Call(ctx, "Echo", []byte("["+arg+"]"))
		if err != nil {
			t.Fatal(err)
		}
		if cl.ID() == "" || seen[cl.ID()] {
			t.Fatalf("id %q is empty or reused", cl.ID())
		}
		seen[cl.ID()] = true
		if m := <-got; m.InvocationID != cl.ID() || m.Target != "Echo" {
			t.Fatalf("server read %+v, want invocation %s", m, cl.ID())
		}
		ev := nextMessage(t, c)
		if ev.Message.Type != protocol.TypeCompletion || ev.Message.InvocationID != cl.ID() {
			t.Fatalf("event %+v, want the completion of %s", ev.Message, cl.ID())
		}
		res, err := cl.Wait(ctx)
		if err != nil || string(res) != arg {
			t.Fatalf("Wait = %s, %v; want %s", res, err, arg)
		}
	}
}

// TestCallWaitDeadline: Wait gives up at its context's end and forgets the
// invocation.
func TestCallWaitDeadline(t *testing.T) {
	f, _ := answeringHub(t)
	c := startConn(t, testOptions(f.URL()))
	cl, err := c.Call(context.Background(), "Silent", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := cl.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "invoke Silent") {
		t.Fatalf("Wait = %v, want the deadline", err)
	}
	if c.inv.get(cl.ID()) != nil {
		t.Fatal("the invocation is still pending after Wait gave up")
	}
}

// TestStreamCloseWritesCancel: Close returns only once the
// CancelInvocation carrying the stream's ID has been written.
func TestStreamCloseWritesCancel(t *testing.T) {
	f, got := answeringHub(t)
	c := startConn(t, testOptions(f.URL()))
	ctx := context.Background()
	st, err := c.Stream(ctx, "Forever", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := <-got; m.Type != protocol.TypeStreamInvocation || m.InvocationID != st.ID() {
		t.Fatalf("server read %+v, want stream %s", m, st.ID())
	}
	if it, err := st.Next(ctx); err != nil || string(it) != `"tick"` {
		t.Fatalf("Next = %s, %v", it, err)
	}
	st.Close()
	select {
	case m := <-got:
		if m.Type != protocol.TypeCancelInvocation || m.InvocationID != st.ID() {
			t.Fatalf("server read %+v, want the cancel of %s", m, st.ID())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no CancelInvocation reached the server")
	}
	st.Close() // a second Close neither blocks nor writes again
}

// TestStreamCloseAfterEnd: closing a stream that already ended returns at
// once and writes nothing.
func TestStreamCloseAfterEnd(t *testing.T) {
	f, got := answeringHub(t)
	c := startConn(t, testOptions(f.URL()))
	st, err := c.Stream(context.Background(), "Forever", nil)
	if err != nil {
		t.Fatal(err)
	}
	<-got
	c.Close()
	st.Close()
	// An item that arrived before the end is still delivered first.
	for i := 0; ; i++ {
		it, err := st.Next(context.Background())
		if err != nil {
			break
		}
		if i > 0 || string(it) != `"tick"` {
			t.Fatalf("Next after the connection closed = %s", it)
		}
	}
}

// TestPlainHubNamesNoHub: a plain hub (no Azure redirect) names no hub,
// even when Options.Hub was sent as hub=; only a redirect names one.
func TestPlainHubNamesNoHub(t *testing.T) {
	f, _ := answeringHub(t)
	o := testOptions(f.URL())
	o.Hub = "Chat"
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Hub() != "" {
		t.Fatalf("Hub before connecting = %q, want none", c.Hub())
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	ev := untilState(t, c, Connected)
	if ev.Hub != "" || c.Hub() != "" {
		t.Fatalf("Connected names hub %q, Hub() %q; a plain hub names none", ev.Hub, c.Hub())
	}
	f.mu.Lock()
	q := f.wsRequests[0].URL.Query().Get("hub")
	f.mu.Unlock()
	if q != "Chat" {
		t.Fatalf("hub= on the connect request = %q, want the Hub option as given", q)
	}
}

// TestRedirectNamesHub: the hub of a redirect with an access token is the
// hub= of its URL; a bare url (some proxy, not Azure) names none.
func TestRedirectNamesHub(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"azure", `{"url":"%s?hub=chat","accessToken":"tok"}`, "chat"},
		{"bare url", `{"url":"%s?hub=chat"}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := answeringHub(t)
			redirected := false
			f.negotiate = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if !redirected && r.URL.Query().Get("hub") == "" {
					redirected = true
					_, _ = w.Write([]byte(strings.Replace(tc.body, "%s", f.URL(), 1)))
					return
				}
				_, _ = w.Write([]byte(`{"connectionId":"c1","connectionToken":"t1","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`))
			}
			c := startConn(t, testOptions(f.URL()))
			ev := untilState(t, c, Connected)
			if ev.Hub != tc.want || c.Hub() != tc.want {
				t.Fatalf("hub %q / %q, want %q", ev.Hub, c.Hub(), tc.want)
			}
		})
	}
}

// untilState returns the first state event in state want.
func untilState(t *testing.T, c *Conn, want State) Event {
	t.Helper()
	for {
		if ev := nextState(t, c); ev.State == want {
			return ev
		}
	}
}
