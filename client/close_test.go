package client

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/rawws"
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
