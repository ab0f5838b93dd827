package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// scripted is an HTTP server that answers each request of a transport
// with the next step of a script, and records what it was sent.
type scripted struct {
	t   *testing.T
	srv *httptest.Server

	mu    sync.Mutex
	steps map[string][]func(w http.ResponseWriter, r *http.Request) // by method
	seen  []string                                                  // "METHOD auth=<yes|no> query-keys"
}

func newScripted(t *testing.T) *scripted {
	s := &scripted{t: t, steps: map[string][]func(http.ResponseWriter, *http.Request){}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		auth := "no"
		if r.Header.Get("Authorization") == "Bearer secret-token" {
			auth = "yes"
		}
		var keys []string
		for k := range r.URL.Query() {
			keys = append(keys, k)
		}
		s.seen = append(s.seen, r.Method+" auth="+auth+" "+strings.Join(sortStrings(keys), ","))
		var step func(http.ResponseWriter, *http.Request)
		if q := s.steps[r.Method]; len(q) > 0 {
			step, s.steps[r.Method] = q[0], q[1:]
		}
		s.mu.Unlock()
		if step == nil {
			http.Error(w, "script ended", http.StatusTeapot)
			return
		}
		step(w, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func sortStrings(s []string) []string {
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s
}

func (s *scripted) on(method string, steps ...func(w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.steps[method] = append(s.steps[method], steps...)
}

func (s *scripted) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func status(code int, body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		if body != "" {
			w.Header().Set("Content-Type", "application/octet-stream")
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	}
}

// target returns the dial target and a Conn whose options the dialers read.
func (s *scripted) target(t *testing.T, o Options) (*Conn, dialTarget) {
	t.Helper()
	o.URL = s.srv.URL + "/client/?hub=chat"
	c, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	base, _ := url.Parse(o.URL)
	return c, dialTarget{base: base, connectURL: connectURL(base, "tok"), token: "secret-token", tokenOrigin: origin(base)}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestLongPollingStatusCodes walks the status table of the transport
// spec: the first poll must be 200; later, 200 empty means poll again,
// 200 with a body is data, 204 ends the connection (and no DELETE
// follows), 404 is an error; a send answered 409 is retried; Close sends
// DELETE; the token travels in the header on every request.
func TestLongPollingStatusCodes(t *testing.T) {
	s := newScripted(t)
	c, tgt := s.target(t, Options{})
	s.on("GET", status(200, ""), status(200, ""), status(200, "{}\x1e"), status(200, `{"type":6}`+"\x1e"), status(204, ""))
	s.on("POST", status(409, ""), status(409, ""), status(200, ""))
	tr, err := dialLongPolling(testCtx(t), c, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.(*lpTransport).inherentKeepAlive() {
		t.Fatal("long polling must keep the connection alive by itself")
	}
	if err := tr.Write(testCtx(t), []byte("hs\x1e")); err != nil {
		t.Fatalf("send after two 409s: %v", err)
	}
	for _, want := range []string{"{}\x1e", `{"type":6}` + "\x1e"} {
		p, err := tr.Read()
		if err != nil || string(p) != want {
			t.Fatalf("Read = %q, %v; want %q", p, err, want)
		}
	}
	if _, err := tr.Read(); err == nil || !strings.Contains(err.Error(), "204") {
		t.Fatalf("Read after 204: %v", err)
	}
	tr.Close()
	got := strings.Join(s.requests(), "\n")
	want := strings.Join([]string{
		"GET auth=yes _,hub,id", "POST auth=yes hub,id", "POST auth=yes hub,id", "POST auth=yes hub,id",
		"GET auth=yes _,hub,id", "GET auth=yes _,hub,id", "GET auth=yes _,hub,id", "GET auth=yes _,hub,id",
	}, "\n")
	if got != want {
		t.Fatalf("requests:\n%s\nwant:\n%s", got, want)
	}

	// A first poll that is not 200 fails the transport; a 404 later is an
	// error that says the connection is gone; Close sends DELETE.
	s = newScripted(t)
	c, tgt = s.target(t, Options{})
	s.on("GET", status(404, "No Connection with that ID"))
	if _, err := dialLongPolling(testCtx(t), c, tgt); err == nil || !strings.Contains(err.Error(), "HTTP 404") {
		t.Fatalf("first poll 404: %v", err)
	}
	s.on("GET", status(200, ""), status(404, ""))
	s.on("POST", status(404, ""))
	s.on("DELETE", status(202, ""))
	tr, err = dialLongPolling(testCtx(t), c, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Write(testCtx(t), []byte("x\x1e")); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("send answered 404: %v", err)
	}
	if _, err := tr.Read(); err == nil || !strings.Contains(err.Error(), "gone") {
		t.Fatalf("poll answered 404: %v", err)
	}
	tr.Close()
	if r := s.requests(); strings.Contains(strings.Join(r, ","), "DELETE") {
		t.Fatalf("DELETE after the server ended the connection: %v", r)
	}

	s = newScripted(t)
	c, tgt = s.target(t, Options{})
	release := make(chan struct{})
	polling := make(chan struct{})
	s.on("GET", status(200, ""), func(w http.ResponseWriter, r *http.Request) {
		close(polling)
		select { // a poll the server holds until the client aborts it
		case <-r.Context().Done():
		case <-release:
		}
	})
	s.on("DELETE", status(202, ""))
	tr, err = dialLongPolling(testCtx(t), c, tgt)
	if err != nil {
		t.Fatal(err)
	}
	readErr := make(chan error, 1)
	go func() { _, err := tr.Read(); readErr <- err }()
	<-polling // the poll has reached the server, so the DELETE comes after it
	tr.Close()
	close(release)
	if err := <-readErr; err != errTransportClosed {
		t.Fatalf("Read after Close: %v", err)
	}
	if r := s.requests(); r[len(r)-1] != "DELETE auth=yes hub,id" {
		t.Fatalf("requests %v: want a DELETE last", r)
	}
}

// TestSSEStreamParsing checks the event-stream reader against the forms
// the format allows: the comment line, data lines joined by "\n", CRLF
// and LF line ends, fields other than data ignored, events without data
// skipped, and lines longer than the reader's buffer.
func TestSSEStreamParsing(t *testing.T) {
	long := strings.Repeat("x", sseBufferSize*2+7)
	s := newScripted(t)
	c, tgt := s.target(t, Options{})
	s.on("GET", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept") != "text/event-stream" {
			http.Error(w, "want Accept: text/event-stream", 400)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte(":\r\n" +
			"data: {}\x1e\r\n\r\n" +
			"event: message\nid: 7\nretry: 10\ndata: [1,\ndata:2]\x1e\n\n" +
			"id: 8\r\n\r\n" +
			"data: " + long + "\r\n\r\n"))
	})
	tr, err := dialSSE(testCtx(t), c, tgt)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for _, want := range []string{"{}\x1e", "[1,\n2]\x1e", long} {
		p, err := tr.Read()
		if err != nil || string(p) != want {
			t.Fatalf("Read = %.40q, %v; want %.40q", p, err, want)
		}
	}
	if _, err := tr.Read(); err == nil || !strings.Contains(err.Error(), "ended the Server-Sent Events stream") {
		t.Fatalf("Read at the end of the stream: %v", err)
	}

	// A limit smaller than an event is an error; a stream that is not
	// text/event-stream, or refused, fails the dial.
	s = newScripted(t)
	c, tgt = s.target(t, Options{ReadLimit: 100})
	s.on("GET", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write([]byte("data: " + long + "\r\n\r\n"))
	}, status(200, "<html>"), status(409, ""))
	tr, err = dialSSE(testCtx(t), c, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Read(); err == nil || !strings.Contains(err.Error(), "read limit") {
		t.Fatalf("oversized event: %v", err)
	}
	tr.Close()
	if _, err := dialSSE(testCtx(t), c, tgt); err == nil || !strings.Contains(err.Error(), "not text/event-stream") {
		t.Fatalf("wrong content type: %v", err)
	}
	if _, err := dialSSE(testCtx(t), c, tgt); err == nil || !strings.Contains(err.Error(), "HTTP 409") {
		t.Fatalf("second stream: %v", err)
	}
	for _, r := range s.requests() {
		if !strings.Contains(r, "auth=yes") || strings.Contains(r, "access_token") {
			t.Fatalf("request %q: want the token in the header only", r)
		}
	}
}
