package hostile

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// wireRows attack the emulator's client endpoint with bytes no client
// should send.
func wireRows() []row {
	send := func(t *testing.T, ws *websocket.Conn, p []byte) {
		t.Helper()
		if err := ws.Write(ctxFor(t, 5*time.Second), websocket.MessageText, p); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	closesWith := func(t *testing.T, ws *websocket.Conn, want string) {
		t.Helper()
		msg, ok := readClose(t, ws, 5*time.Second)
		if !ok || !strings.Contains(msg, want) {
			t.Fatalf("close = %q (close message %v), want it to contain %q", msg, ok, want)
		}
	}
	return []row{
		{area: "emulator wire", input: "malformed record after the handshake: `{\"type\":1,` then 0x1E",
			outcome: "Close message `Connection closed with an error. Invalid message: ...`, socket closed",
			check: func(t *testing.T, e *env) {
				ws := rawConn(t, e.stack(), "mallory", false)
				send(t, ws, []byte("{\"type\":1,\x1e"))
				closesWith(t, ws, "Invalid message")
			}},
		{area: "emulator wire", input: "record that is not JSON: `hello` then 0x1E",
			outcome: "Close message with `Invalid message`",
			check: func(t *testing.T, e *env) {
				ws := rawConn(t, e.stack(), "mallory", false)
				send(t, ws, []byte("hello\x1e"))
				closesWith(t, ws, "Invalid message")
			}},
		{area: "emulator wire", input: "oversized record: 100 KiB invocation against a 64 KiB MaxMessageSize",
			outcome: "Close message `A message exceeded the maximum message size of 65536 bytes.`",
			check: func(t *testing.T, e *env) {
				ws := rawConn(t, e.tight(), "mallory", false)
				send(t, ws, []byte(`{"type":1,"target":"x","arguments":["`+strings.Repeat("a", 100<<10)+"\"]}\x1e"))
				closesWith(t, ws, "maximum message size of 65536")
			}},
		{area: "emulator wire", input: "a record that never ends: 4 KiB messages without 0x1E, forever",
			outcome: "Close message as soon as the unterminated record passes MaxMessageSize; what follows is discarded unread and the socket is dropped within the 5 s close handshake",
			check: func(t *testing.T, e *env) {
				ws := rawConn(t, e.tight(), "mallory", false)
				ctx := ctxFor(t, 20*time.Second)
				chunk := bytes.Repeat([]byte("x"), 4<<10)
				stopped := make(chan time.Time, 1)
				go func() {
					for sent := 0; sent < 200<<20; sent += len(chunk) {
						if ws.Write(ctx, websocket.MessageText, chunk) != nil {
							break
						}
					}
					stopped <- time.Now()
				}()
				closesWith(t, ws, "maximum message size")
				closed := time.Now()
				select {
				case at := <-stopped:
					if d := at.Sub(closed); d > 8*time.Second {
						t.Fatalf("writes went on for %s after the close", d)
					}
				case <-ctx.Done():
					t.Fatal("the emulator kept reading an endless record")
				}
			}},
		{area: "emulator wire", input: "deep JSON: arguments nested 100 000 arrays deep",
			outcome: "refused as an invalid message (depth limit), no stack exhaustion",
			check: func(t *testing.T, e *env) {
				deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
				if _, err := protocol.ParseMessage([]byte(`{"type":1,"target":"x","arguments":[`+deep+`]}`), protocol.Lenient); err == nil {
					t.Log("the codec accepts 100 000 levels (it does not recurse)")
				}
				ws := rawConn(t, e.stack(), "mallory", false)
				send(t, ws, []byte(`{"type":1,"target":"x","arguments":[`+deep+"]}\x1e"))
				// Either refused, or accepted and dropped (serverless: no
				// upstream); the connection must still answer afterwards.
				send(t, ws, []byte("{\"type\":6}\x1e"))
				send(t, ws, []byte("{\"type\":7}\x1e"))
				if msg, _ := readClose(t, ws, 5*time.Second); msg != "" && !strings.Contains(msg, "Invalid message") {
					t.Fatalf("close %q", msg)
				}
			}},
		{area: "emulator wire", input: "invalid UTF-8 inside a string of an invocation (0xff 0xfe)",
			outcome: "the record is refused or kept as bytes; never a panic, the service keeps serving others",
			check: func(t *testing.T, e *env) {
				ws := rawConn(t, e.stack(), "mallory", false)
				send(t, ws, []byte("{\"type\":1,\"target\":\"x\xff\xfe\",\"arguments\":[\"\xc3\x28\"]}\x1e"))
				send(t, ws, []byte("{\"type\":7}\x1e"))
				readClose(t, ws, 5*time.Second)
				other := rawConn(t, e.stack(), "alice", false)
				send(t, other, []byte("{\"type\":7}\x1e"))
				readClose(t, other, 5*time.Second)
			}},
		{area: "emulator wire", input: "handshake for an unknown protocol (`protobuf`), or messagepack version 99",
			outcome: "handshake answer `{\"error\":\"The protocol 'protobuf' is not supported.\"}` or `The server does not support version 99 of the 'messagepack' protocol.`, then close",
			check: func(t *testing.T, e *env) {
				for hs, want := range map[string]string{
					`{"protocol":"protobuf","version":1}`:     `The protocol 'protobuf' is not supported.`,
					`{"protocol":"messagepack","version":99}`: `The server does not support version 99 of the 'messagepack' protocol.`,
				} {
					ws := rawConn(t, e.stack(), "mallory", true)
					send(t, ws, []byte(hs+"\x1e"))
					_, p, err := ws.Read(ctxFor(t, 5*time.Second))
					if err != nil || !bytes.Contains(p, []byte(want)) {
						t.Fatalf("answer %q, %v", p, err)
					}
				}
			}},
		{area: "emulator wire", input: "a connection that never sends its handshake",
			outcome: "closed after HandshakeTimeout (15 s by default; 300 ms here)",
			check: func(t *testing.T, e *env) {
				ws := rawConn(t, e.tight(), "mallory", true)
				start := time.Now()
				_, _, err := ws.Read(ctxFor(t, 5*time.Second))
				if err == nil || time.Since(start) > 3*time.Second || errorsIsDeadline(err) {
					t.Fatalf("read = %v after %s", err, time.Since(start))
				}
			}},
	}
}

func errorsIsDeadline(err error) bool {
	return err != nil && strings.Contains(err.Error(), context.DeadlineExceeded.Error())
}
