package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/rawws"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// benchFrame is one chat invocation, one record per WebSocket message, as
// the serverless chat sample delivers them.
var benchFrame = []byte(`{"type":1,"target":"newMessage","arguments":[{"sender":"bob","text":"hello from the benchmark, message body of a typical size","recipient":"alice"}],"headers":{"route":"user:alice"}}` + "\x1e")

// benchChunk is how many frames benchServer encodes ahead; it writes them
// again and again. A stream of b.N frames held in the benchmark's own
// process would inflate its heap, so the garbage collector would hardly
// run and every buffer the client allocates would be fresh pages from the
// kernel, which no real client process sees.
const benchChunk = 4096

// benchServer negotiates, answers the handshake, waits for a record
// containing "go", then writes n frames in large writes. It speaks
// WebSocket itself, writing pre-encoded frames, so that the sender is
// never the bottleneck and the benchmark measures the client. The
// client's Start and the handshake happen before the timer.
func benchServer(b *testing.B, n int) (*httptest.Server, *sync.WaitGroup) {
	var wg sync.WaitGroup
	chunk := make([]byte, 0, benchChunk*(len(benchFrame)+4))
	for range min(n, benchChunk) {
		chunk = rawws.AppendFrame(chunk, benchFrame)
	}
	frameLen := len(chunk) / min(n, benchChunk)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/negotiate") {
			io.WriteString(w, `{"connectionId":"b","connectionToken":"b","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
			return
		}
		wg.Add(1)
		defer wg.Done()
		conn, br, err := rawws.Upgrade(w, r)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		if _, err := rawws.ReadFrame(br); err != nil { // handshake
			return
		}
		if _, err := conn.Write(rawws.AppendFrame(nil, []byte("{}\x1e"))); err != nil {
			return
		}
		for {
			p, err := rawws.ReadFrame(br)
			if err != nil {
				return
			}
			if bytes.Contains(p, []byte("go")) {
				break
			}
		}
		for left := n; left > 0; left -= benchChunk {
			if _, err := conn.Write(chunk[:min(left, benchChunk)*frameLen]); err != nil {
				return
			}
		}
		// Keep the connection open until the client goes.
		for {
			if _, err := rawws.ReadFrame(br); err != nil {
				return
			}
		}
	}))
	return srv, &wg
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
// bare coder/websocket reader on the same frames doing the least a real
// reader must, reading each message whole into a reused buffer and
// splitting it into records, and nothing else.
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
	if err := c.Write(ctx, websocket.MessageText, jsonWire.handshake(1)); err != nil {
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
	records := 0
	for records < b.N {
		_, r, err := c.Reader(ctx)
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			if n == len(buf) {
				buf = append(buf, 0)
				buf = buf[:cap(buf)]
			}
			m, err := r.Read(buf[n:])
			n += m
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		for p := buf[:n]; ; {
			i := bytes.IndexByte(p, protocol.RecordSeparator)
			if i < 0 {
				break
			}
			records++
			p = p[i+1:]
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
