package client

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/rawws"
	"github.com/sigr-dev/sigr/protocol"
)

// silentCloser is a hub that never answers the WebSocket close handshake:
// it takes the client's close frame and then holds the TCP connection
// open, as a proxy that lost track of the session or a hung server does.
// closed receives every record the client sent before its close frame.
type silentCloser struct {
	srv  *httptest.Server
	wg   sync.WaitGroup
	recs chan string
}

func newSilentCloser(t *testing.T) *silentCloser {
	t.Helper()
	s := &silentCloser{recs: make(chan string, 64)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/negotiate") {
			io.WriteString(w, `{"connectionId":"c","connectionToken":"c","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
			return
		}
		s.wg.Add(1)
		defer s.wg.Done()
		conn, br, err := rawws.Upgrade(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		if _, err := rawws.ReadFrame(br); err != nil { // the handshake
			return
		}
		if _, err := conn.Write(rawws.AppendFrame(nil, []byte("{}\x1e"))); err != nil {
			return
		}
		s.hold(conn, br)
	}))
	t.Cleanup(func() {
		s.srv.CloseClientConnections()
		s.srv.Close()
		s.wg.Wait()
	})
	return s
}

// hold reads the client's frames; after its close frame it reads on
// without answering until the client drops the connection.
func (s *silentCloser) hold(conn net.Conn, br *bufio.Reader) {
	for {
		p, err := rawws.ReadFrame(br)
		if err != nil {
			break
		}
		for rec := range strings.SplitSeq(strings.TrimSuffix(string(p), "\x1e"), "\x1e") {
			select {
			case s.recs <- rec:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, br)
}

func TestCloseDoesNotWaitForASilentServer(t *testing.T) {
	s := newSilentCloser(t)
	for i := range 6 {
		o := testOptions(s.srv.URL + "/hub")
		c := startConn(t, o)
		expectState(t, c, Connecting)
		expectState(t, c, Connected)
		began := time.Now()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		took := time.Since(began)
		t.Logf("close %d took %s", i, took.Round(time.Millisecond))
		// The bound is 250 ms; the margin is for a loaded machine. The
		// failure this guards against is coder/websocket's 5 s wait.
		if took > 2*time.Second {
			t.Errorf("Close took %s against a server that does not answer the close handshake", took)
		}
		if last := waitClosed(t, c); last.State != Disconnected || last.Err != nil {
			t.Errorf("last = %+v", last)
		}
		sawClose := false
		for !sawClose {
			select {
			case rec := <-s.recs:
				sawClose = rec == `{"type":7}`
			case <-time.After(5 * time.Second):
				t.Fatal("the server never got the hub Close message")
			}
		}
	}
}

// stuckTransport is a transport whose writes block until it is closed, as
// a write does on a network that stopped taking data.
type stuckTransport struct {
	writing chan struct{} // gets a value when a write starts
	closed  chan struct{}
	once    sync.Once
}

func newStuckTransport() *stuckTransport {
	return &stuckTransport{writing: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (s *stuckTransport) Name() string { return protocol.TransportWebSockets }

func (s *stuckTransport) Read() ([]byte, error) {
	<-s.closed
	return nil, net.ErrClosed
}

func (s *stuckTransport) Write(ctx context.Context, p []byte) error {
	select {
	case s.writing <- struct{}{}:
	default:
	}
	<-s.closed
	return net.ErrClosed
}

func (s *stuckTransport) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// TestAccessorsDoNotWaitForTheTransportLock: while a write is stuck on the
// network and a resume waits to swap the transport (so that nothing new
// gets the transport lock), Transport, State and Close still answer at
// once: none of them waits for the lock, and Close, by closing the
// transport, is what frees the stuck write.
func TestAccessorsDoNotWaitForTheTransportLock(t *testing.T) {
	c, err := New(Options{URL: "http://127.0.0.1:1/hub"})
	if err != nil {
		t.Fatal(err)
	}
	tr := newStuckTransport()
	s := &session{c: c, tname: tr.Name(), epoch: time.Now(), stopped: make(chan struct{})}
	s.setTransport(tr)
	c.mu.Lock()
	c.started, c.sess, c.state = true, s, Connected
	c.mu.Unlock()

	wrote := make(chan error, 1)
	go func() { wrote <- s.write(context.Background(), c.wp.ping) }()
	<-tr.writing
	resumed := make(chan struct{})
	go func() {
		s.tmu.Lock() // as a resume does to swap the transport
		s.setTransport(tr)
		s.tmu.Unlock()
		close(resumed)
	}()
	// Once the resume waits for the lock, no one new gets it.
	for s.tmu.TryRLock() {
		s.tmu.RUnlock()
		time.Sleep(time.Millisecond)
	}

	answered := make(chan string, 1)
	go func() {
		name := c.Transport()
		_ = c.State()
		_ = c.Close()
		answered <- name
	}()
	select {
	case name := <-answered:
		if name != protocol.TransportWebSockets {
			t.Errorf("Transport() = %q", name)
		}
	case <-time.After(10 * time.Second):
		tr.Close() // let the goroutines go before failing
		<-answered
		t.Fatal("Transport, State or Close waited for the transport lock held by a stuck write")
	}
	if err := <-wrote; err == nil {
		t.Error("the stuck write reported success")
	}
	<-resumed
}
