package testhub

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	})
	return s
}

// connect opens a connection to s over transport; before it starts, on
// (when set) may register handlers.
func connect(t *testing.T, s *Server, transport string, on ...func(*client.Conn)) *client.Conn {
	t.Helper()
	c, err := client.New(client.Options{URL: s.URL(), Transports: []string{transport}, Reconnect: client.NoReconnect})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range on {
		f(c)
	}
	go func() {
		for range c.Events() {
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestMethods calls every method over each transport and checks the
// answers, ASP.NET Core's error texts included.
func TestMethods(t *testing.T) {
	for _, tr := range []string{protocol.TransportWebSockets, protocol.TransportServerSentEvents} {
		t.Run(tr, func(t *testing.T) {
			s := start(t)
			c := connect(t, s, tr)
			if c.Transport() != tr || c.Hub() != "" {
				t.Fatalf("transport %q hub %q", c.Transport(), c.Hub())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for _, tc := range []struct {
				target, args, want, err string
			}{
				{"echo", `[{"a":[1,"x"]}]`, `{"a":[1,"x"]}`, ""},
				{"Add", `[1,2.5]`, `3.5`, ""},
				{"sleep", `[1]`, ``, ""},
				{"Fail", `["boom"]`, "", "An unexpected error occurred invoking 'Fail' on the server. HubException: boom"},
				{"nosuch", `[]`, "", "Failed to invoke 'nosuch' due to an error on the server. HubException: Method does not exist."},
				{"echo", `[1,2]`, "", "Failed to invoke 'echo' due to an error on the server."},
				{"add", `["x",1]`, "", "Failed to invoke 'add' due to an error on the server."},
				{"counter", `[1,0]`, "", "The client attempted to invoke the streaming 'counter' method with a non-streaming invocation."},
			} {
				res, err := c.Invoke(ctx, tc.target, []byte(tc.args))
				var he *client.HubError
				switch {
				case tc.err != "":
					if !errors.As(err, &he) || he.Message != tc.err {
						t.Errorf("%s%s: error %v, want %q", tc.target, tc.args, err, tc.err)
					}
				case err != nil || string(res) != tc.want:
					t.Errorf("%s%s = %s, %v; want %s", tc.target, tc.args, res, err, tc.want)
				}
			}

			st, err := c.Stream(ctx, "Counter", []byte(`[3,1]`))
			if err != nil {
				t.Fatal(err)
			}
			var items []string
			for {
				it, err := st.Next(ctx)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				items = append(items, string(it))
			}
			if strings.Join(items, ",") != "1,2,3" {
				t.Fatalf("items %v", items)
			}
			st, err = c.Stream(ctx, "Echo", []byte(`[1]`))
			if err != nil {
				t.Fatal(err)
			}
			var he *client.HubError
			if _, err := st.Next(ctx); !errors.As(err, &he) || !strings.Contains(he.Message, "non-streaming 'Echo' method with a streaming invocation") {
				t.Fatalf("stream of Echo: %v", err)
			}
		})
	}
}

// TestBroadcastAndSend: a void method reaches every connection, and a
// non-blocking invocation runs without an answer.
func TestBroadcastAndSend(t *testing.T) {
	s := start(t)
	a := connect(t, s, protocol.TransportWebSockets)
	got := make(chan client.Event, 1)
	connect(t, s, protocol.TransportServerSentEvents, func(b *client.Conn) {
		b.On("newMessage", func(ev client.Event) { got <- ev })
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := a.Invoke(ctx, "broadcast", []byte(`["hi"]`)); err != nil || res != nil {
		t.Fatalf("Broadcast = %s, %v; want a void completion", res, err)
	}
	select {
	case ev := <-got:
		if string(ev.Message.Arguments) != `["hi"]` {
			t.Fatalf("newMessage %s", ev.Message.Arguments)
		}
	case <-ctx.Done():
		t.Fatal("the broadcast did not reach the other connection")
	}
	if err := a.Send(ctx, "Broadcast", []byte(`["again"]`)); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-got:
		if string(ev.Message.Arguments) != `["again"]` {
			t.Fatalf("newMessage %s", ev.Message.Arguments)
		}
	case <-ctx.Done():
		t.Fatal("the non-blocking invocation did not run")
	}
	var sent []string
	for _, r := range s.Received() {
		sent = append(sent, r.Message.Target+":"+r.Message.InvocationID)
	}
	if len(sent) != 2 || sent[0] != "broadcast:0" || sent[1] != "Broadcast:" {
		t.Fatalf("received %v", sent)
	}
}

// TestCancelStream: a CancelInvocation stops the stream, and the server
// records it.
func TestCancelStream(t *testing.T) {
	for _, tr := range []string{protocol.TransportWebSockets, protocol.TransportServerSentEvents} {
		t.Run(tr, func(t *testing.T) {
			s := start(t)
			c := connect(t, s, tr)
			ctx := context.Background()
			st, err := c.Stream(ctx, "counter", []byte(`[100000,1]`))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Next(ctx); err != nil {
				t.Fatal(err)
			}
			st.Close()
			deadline := time.Now().Add(10 * time.Second)
			for {
				rs := s.Received()
				if last := rs[len(rs)-1].Message; last.Type == protocol.TypeCancelInvocation && last.InvocationID == st.ID() {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("no CancelInvocation for %s in %+v", st.ID(), rs)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// TestHTTPAnswers: the answers of ASP.NET Core's dispatcher to requests a
// client gets wrong.
func TestHTTPAnswers(t *testing.T) {
	s := start(t)
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/negotiate?negotiateVersion=1", http.StatusMethodNotAllowed},
		{http.MethodGet, "?id=nosuch", http.StatusNotFound},
		{http.MethodGet, "", http.StatusBadRequest},
		{http.MethodPost, "/negotiate/negotiate", http.StatusNotFound},
		{http.MethodGet, "/other?id=x", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tc.method, s.URL()+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, resp.StatusCode, tc.status)
		}
	}
	resp, err := http.Post(s.URL()+"/negotiate?negotiateVersion=1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	nr, err := protocol.ParseNegotiateResponse(body)
	if err != nil || nr.NegotiateVersion != 1 || nr.ConnectionToken == "" || nr.URL != "" || nr.AccessToken != "" ||
		!nr.HasTransport(protocol.TransportWebSockets) || !nr.HasTransport(protocol.TransportServerSentEvents) {
		t.Fatalf("negotiate %s: %+v, %v", body, nr, err)
	}
}

// rawConnect negotiates and dials the WebSocket without a client, for the
// cases a client never provokes.
func rawConnect(t *testing.T, s *Server) *websocket.Conn {
	t.Helper()
	resp, err := http.Post(s.URL()+"/negotiate?negotiateVersion=1", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	nr, err := protocol.ParseNegotiateResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL(), "http")+"?id="+nr.ConnectionToken, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.CloseNow() })
	return ws
}

// TestProtocolErrors: a refused handshake and a malformed message get
// ASP.NET Core's answers, and the connection ends.
func TestProtocolErrors(t *testing.T) {
	s := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, tc := range []struct{ send, want string }{
		{"{\"protocol\":\"messagepack\",\"version\":1}\x1e", "{\"error\":\"The protocol 'messagepack' is not supported.\"}\x1e"},
		{"{\"protocol\":\"json\",\"version\":1}\x1e{\"type\":1}\x1e", "{}\x1e"},
	} {
		ws := rawConnect(t, s)
		if err := ws.Write(ctx, websocket.MessageText, []byte(tc.send)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			_, p, err := ws.Read(ctx)
			if err != nil {
				break
			}
			got = append(got, string(p))
		}
		if len(got) == 0 || got[0] != tc.want {
			t.Fatalf("sent %q, got %q, want first %q", tc.send, got, tc.want)
		}
		if strings.HasPrefix(tc.send, "{\"protocol\":\"json\"") &&
			(len(got) != 2 || got[1] != "{\"type\":7,\"error\":\"Connection closed with an error.\"}\x1e") {
			t.Fatalf("after a malformed message got %q, want a Close with an error", got)
		}
	}
}
