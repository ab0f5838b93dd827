package client

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/internal/rawws"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// benchFrame is one chat invocation, one record per WebSocket message, as
// the serverless chat sample delivers them.
var benchFrame = []byte(`{"type":1,"target":"newMessage","arguments":[{"sender":"bob","text":"hello from the benchmark, message body of a typical size","recipient":"alice"}],"headers":{"route":"user:alice"}}` + "\x1e")

// benchChunk is how many frames the benchmark server encodes ahead; it
// writes them again and again, so that its memory does not grow with b.N.
const benchChunk = 4096

// benchServerEnv, set in the environment, makes the test binary the
// benchmark server (see TestMain); its value is the number of frames.
const benchServerEnv = "SIGR_CLIENT_BENCH_SERVER"

// benchServer starts the test binary again as a server that negotiates,
// answers the handshake, waits for a record containing "go", then writes
// n frames in large writes (serveBench), and returns its base URL. It
// speaks WebSocket itself, writing pre-encoded frames, so that the sender
// is never the bottleneck and the benchmark measures the client.
//
// It runs in a process of its own, as a real server does. In the
// benchmark's process its goroutines would share the Go scheduler's two
// Ps with the client's: while the client's goroutines kept both busy, the
// netpoller would wake the writer late, the socket would run dry and the
// reader would wait, a stall no client sees whose server is elsewhere;
// and its heap would change how often the client's garbage is collected.
func benchServer(b *testing.B, n int) string {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchServerEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("benchmark server: %v", err)
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		b.Fatalf("benchmark server: no URL: %v", err)
	}
	return strings.TrimSpace(line)
}

// serveBench is the benchmark server's process (benchServer): n is the
// number of frames to write on each connection. It prints its base URL
// and serves until its standard input closes.
func serveBench(n string) int {
	count, err := strconv.Atoi(n)
	if err != nil || count < 1 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a positive count\n", benchServerEnv, n)
		return 2
	}
	chunk := make([]byte, 0, benchChunk*(len(benchFrame)+4))
	for range min(count, benchChunk) {
		chunk = rawws.AppendFrame(chunk, benchFrame)
	}
	frameLen := len(chunk) / min(count, benchChunk)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/negotiate") {
			io.WriteString(w, `{"connectionId":"b","connectionToken":"b","negotiateVersion":1,"availableTransports":[{"transport":"WebSockets","transferFormats":["Text"]}]}`)
			return
		}
		conn, br, err := rawws.Upgrade(w, r)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
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
		for left := count; left > 0; left -= benchChunk {
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
	})}
	go srv.Serve(ln)
	fmt.Printf("http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	srv.Close()
	return 0
}

// BenchmarkReceive is the library's receive path end to end on loopback:
// a server writes b.N invocations and the client delivers each as an
// Event on the channel, decoded, with its own copy of the record.
func BenchmarkReceive(b *testing.B) {
	base := benchServer(b, b.N)
	c, err := New(Options{URL: base + "/hub", Reconnect: NoReconnect, ServerTimeout: time.Minute})
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
func BenchmarkReceiveBareWebSocket(b *testing.B) { benchBare(b, false) }

// BenchmarkReceiveBareHandoff is the bare reader handing each record to
// a second goroutine over a buffered channel, which only counts them: the
// least a reader pays whose records are decoded and delivered on another
// goroutine, as the library's are, so that reading never waits for
// decoding. It shares nothing else with the library.
func BenchmarkReceiveBareHandoff(b *testing.B) { benchBare(b, true) }

func benchBare(b *testing.B, handoff bool) {
	base := benchServer(b, b.N)
	ctx := context.Background()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/hub?id=b", nil)
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
	var recs chan []byte
	counted := make(chan int, 1)
	if handoff {
		recs = make(chan []byte, 1024)
		go func() {
			n := 0
			for rec := range recs {
				n += min(len(rec), 1)
			}
			counted <- n
		}()
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
			if handoff {
				recs <- p[:i:i]
			}
			p = p[i+1:]
		}
	}
	if handoff {
		close(recs)
		if n := <-counted; n != b.N {
			b.Fatalf("the second goroutine counted %d records of %d", n, b.N)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}
