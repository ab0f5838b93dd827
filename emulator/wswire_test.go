package emulator

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// recordingConn keeps what coder/websocket writes to the socket.
type recordingConn struct {
	net.Conn
	mu  sync.Mutex
	out bytes.Buffer
}

func (c *recordingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.out.Write(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

type recordingAccept struct {
	http.ResponseWriter
	conn *recordingConn
}

func (w *recordingAccept) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn = &recordingConn{Conn: conn}
	brw.Writer.Reset(w.conn)
	return w.conn, brw, nil
}

// TestFramesMatchCoderWebsocket: the frames the emulator builds are the
// bytes coder/websocket writes for the same message as a server, at every
// length encoding and both types, and a coder/websocket client reads them.
func TestFramesMatchCoderWebsocket(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 1000, 65535, 65536, 70000}
	type sample struct {
		typ     websocket.MessageType
		payload []byte
	}
	var samples []sample
	for _, n := range sizes {
		p := bytes.Repeat([]byte{'a'}, n)
		for i := range p {
			p[i] = byte('a' + i%26)
		}
		samples = append(samples, sample{websocket.MessageText, p}, sample{websocket.MessageBinary, p})
	}
	wrote := make(chan []byte, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		acc := &recordingAccept{ResponseWriter: w}
		ws, err := websocket.Accept(acc, r, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer ws.CloseNow()
		acc.conn.mu.Lock()
		acc.conn.out.Reset() // the upgrade's answer
		acc.conn.mu.Unlock()
		for _, s := range samples {
			if err := ws.Write(context.Background(), s.typ, s.payload); err != nil {
				t.Error(err)
				return
			}
		}
		acc.conn.mu.Lock()
		wrote <- bytes.Clone(acc.conn.out.Bytes())
		acc.conn.mu.Unlock()
		// Then the emulator's frames of the same messages.
		wire := newWire(acc.conn.Conn)
		for _, s := range samples {
			op := byte(opText)
			if s.typ == websocket.MessageBinary {
				op = opBinary
			}
			if err := wire.writeMessage(op, [][]byte{s.payload}); err != nil {
				t.Error(err)
				return
			}
		}
		_, _, _ = ws.Read(context.Background()) // until the client goes
	}))
	defer srv.Close()

	ws, _, err := websocket.Dial(ctxT(t), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	var want []byte
	for round := range 2 {
		for i, s := range samples {
			typ, data, err := ws.Read(ctxT(t))
			if err != nil {
				t.Fatalf("round %d message %d: %v", round, i, err)
			}
			if typ != s.typ || !bytes.Equal(data, s.payload) {
				t.Fatalf("round %d message %d: got %v of %d bytes, want %v of %d", round, i, typ, len(data), s.typ, len(s.payload))
			}
			if round == 0 {
				op := byte(opText)
				if s.typ == websocket.MessageBinary {
					op = opBinary
				}
				want = appendFrame(want, op, s.payload)
			}
		}
	}
	got := <-wrote
	if !bytes.Equal(got, want) {
		t.Fatalf("coder/websocket wrote %d bytes, the emulator's frames are %d bytes, or they differ", len(got), len(want))
	}
}

// connOf returns the service's connection with the public id.
func connOf(t *testing.T, st *Stack, id string) *conn {
	t.Helper()
	st.Service.mu.Lock()
	defer st.Service.mu.Unlock()
	for _, c := range st.Service.tokens {
		if c.id == id {
			return c
		}
	}
	t.Fatalf("no connection %s", id)
	return nil
}

// mpClient is a raw MessagePack WebSocket client.
type mpClient struct{ ws *websocket.Conn }

func connectMP(t *testing.T, st *Stack, hub, user string) *mpClient {
	t.Helper()
	ws, _ := dialWS(t, st, hub, user)
	hs := protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: protocol.ProtocolMessagePack, Version: 1})
	if err := ws.Write(ctxT(t), websocket.MessageText, hs); err != nil {
		t.Fatal(err)
	}
	if typ, p, err := ws.Read(ctxT(t)); err != nil || typ != websocket.MessageBinary || string(p) != "{}\x1e" {
		t.Fatalf("handshake answer %v %q %v", typ, p, err)
	}
	return &mpClient{ws: ws}
}

// next reads the next invocation, which must come in a binary message.
func (c *mpClient) next(t *testing.T) protocol.Message {
	t.Helper()
	for {
		typ, p, err := c.ws.Read(ctxT(t))
		if err != nil || typ != websocket.MessageBinary {
			t.Fatalf("read %v %v", typ, err)
		}
		recs, err := protocol.SplitBinaryRecords(p)
		if err != nil {
			t.Fatalf("records %x: %v", p, err)
		}
		for _, r := range recs {
			m, err := protocol.ParseMessagePack(r, protocol.Strict)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == protocol.TypeInvocation {
				return m
			}
		}
	}
}

// TestControlFrameAfterRest: a control frame coder/websocket writes goes
// after what a direct write left, never inside that frame.
func TestControlFrameAfterRest(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newWire(a)
	w.rest = []byte("rest of a frame")
	errc := make(chan error, 1)
	go func() {
		_, err := wsConn{Conn: a, w: w}.Write([]byte("pong"))
		errc <- err
	}()
	got, err := io.ReadAll(io.LimitReader(b, int64(len("rest of a framepong"))))
	if err != nil || string(got) != "rest of a framepong" {
		t.Fatalf("read %q, %v", got, err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if w.rest != nil {
		t.Fatal("the rest is still owed")
	}
}

// TestNoDataAfterCloseFrame: once coder/websocket has written a Close
// frame, the writer's next message fails instead of following it on the
// wire (RFC 6455 5.5.1).
func TestNoDataAfterCloseFrame(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w := newWire(a)
	closeFrame := appendFrame(nil, opClose, []byte{0x03, 0xe8})
	go func() { _, _ = wsConn{Conn: a, w: w}.Write(closeFrame) }()
	got := make([]byte, len(closeFrame))
	if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, closeFrame) {
		t.Fatalf("read %x, %v", got, err)
	}
	// A write that went ahead would block on the pipe: the deadline turns
	// that into a failure with another error.
	_ = a.SetWriteDeadline(time.Now().Add(time.Second))
	if err := w.writeMessage(opText, [][]byte{[]byte("late\x1e")}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("a message after the Close frame: %v, want net.ErrClosed", err)
	}
}
