package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
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

// benchFrame is one chat invocation, one record per WebSocket message, as
// the serverless chat sample delivers them.
var benchFrame = []byte(`{"type":1,"target":"newMessage","arguments":[{"sender":"bob","text":"hello from the benchmark, message body of a typical size","recipient":"alice"}],"headers":{"route":"user:alice"}}` + "\x1e")

// benchServer negotiates, answers the handshake, waits for a record
// containing "go", then writes n frames in one go. It speaks WebSocket
// itself, writing pre-encoded frames in one large write, so that the
// sender is never the bottleneck and the benchmark measures the client.
// The client's Start and the handshake happen before the timer.
func benchServer(b *testing.B, n int) (*httptest.Server, *sync.WaitGroup) {
	var wg sync.WaitGroup
	stream := make([]byte, 0, n*(len(benchFrame)+4))
	for range n {
		stream = appendServerFrame(stream, benchFrame)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/negotiate") {
			io.WriteString(w, `{"connectionId":"b","connectionToken":"b","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
			return
		}
		wg.Add(1)
		defer wg.Done()
		conn, br, err := rawUpgrade(w, r)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		if _, err := readClientFrame(br); err != nil { // handshake
			return
		}
		if _, err := conn.Write(appendServerFrame(nil, []byte("{}\x1e"))); err != nil {
			return
		}
		for {
			p, err := readClientFrame(br)
			if err != nil {
				return
			}
			if bytes.Contains(p, []byte("go")) {
				break
			}
		}
		if _, err := conn.Write(stream); err != nil {
			return
		}
		// Keep the connection open until the client goes.
		for {
			if _, err := readClientFrame(br); err != nil {
				return
			}
		}
	}))
	return srv, &wg
}

// rawUpgrade accepts a WebSocket upgrade by hand (RFC 6455 section 4.2)
// and returns the hijacked connection.
func rawUpgrade(w http.ResponseWriter, r *http.Request) (net.Conn, *bufio.Reader, error) {
	key := r.Header.Get("Sec-WebSocket-Key")
	if key == "" {
		return nil, nil, errors.New("not a WebSocket upgrade")
	}
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return nil, nil, err
	}
	_, err = conn.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		base64.StdEncoding.EncodeToString(h[:]) + "\r\n\r\n"))
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, brw.Reader, nil
}

// appendServerFrame appends p as one unmasked, final text frame.
func appendServerFrame(dst, p []byte) []byte {
	dst = append(dst, 0x81)
	switch n := len(p); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126, byte(n>>8), byte(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}

// readClientFrame reads one masked client frame and returns its payload
// (control frames included; a close frame returns io.EOF).
func readClientFrame(br *bufio.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, err
	}
	if hdr[0]&0x0f == 0x8 {
		return nil, io.EOF
	}
	n := uint64(hdr[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return nil, err
		}
		n = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(br, ext[:]); err != nil {
			return nil, err
		}
		n = binary.BigEndian.Uint64(ext[:])
	}
	if n > 1<<20 {
		return nil, errors.New("client frame too large")
	}
	var mask [4]byte
	if hdr[1]&0x80 != 0 {
		if _, err := io.ReadFull(br, mask[:]); err != nil {
			return nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return nil, err
	}
	for i := range p {
		p[i] ^= mask[i%4]
	}
	return p, nil
}

// BenchmarkReceive is the library's receive path end to end on loopback:
// a server writes b.N invocations and the client delivers each as an
// Event on the channel, decoded, with its own copy of the record.
func BenchmarkReceive(b *testing.B) {
	srv, wg := benchServer(b, b.N)
	defer func() { srv.Close(); wg.Wait() }()
	c, err := New(Options{URL: srv.URL + "/hub", Reconnect: NoReconnect, ServerTimeout: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	events := c.Events()
	for ev := range events { // drain the state events
		if ev.Kind == EventState && ev.State == Connected {
			break
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(benchFrame)))
	b.ResetTimer()
	start := time.Now()
	if err := c.Send(context.Background(), "go", nil); err != nil {
		b.Fatal(err)
	}
	for got := 0; got < b.N; {
		ev := <-events
		if ev.Kind == EventMessage && ev.Message.Type == protocol.TypeInvocation {
			got++
		} else if ev.Kind == EventState {
			b.Fatalf("state %s: %v", ev.State, ev.Err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkReceiveBareWebSocket is the floor under the hub protocol: a
// bare coder/websocket reader on the same frames, reading each message
// into a reused buffer and doing nothing else.
func BenchmarkReceiveBareWebSocket(b *testing.B) {
	srv, wg := benchServer(b, b.N)
	defer func() { srv.Close(); wg.Wait() }()
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/hub?id=b", nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(DefaultReadLimit)
	if err := c.Write(ctx, websocket.MessageText, handshakeRequest); err != nil {
		b.Fatal(err)
	}
	if _, _, err := c.Read(ctx); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(benchFrame)))
	b.ResetTimer()
	start := time.Now()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":1,"target":"go","arguments":[]}`+"\x1e")); err != nil {
		b.Fatal(err)
	}
	for range b.N {
		_, r, err := c.Reader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for {
			_, err := r.Read(buf)
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
