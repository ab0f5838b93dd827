package emulator

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// TestWebhookMessagePack: the built-in function app reads a MessagePack
// client's invocation (application/x-msgpack, one length-prefixed record)
// and answers with a MessagePack Completion.
func TestWebhookMessagePack(t *testing.T) {
	st := startStack(t, nil)
	hook := strings.TrimSuffix(st.FunctionsURL, "/api") + WebhookPath
	hdr := webhookHeaders("messages", "echo", "c1")
	hdr["Content-Type"] = "application/x-msgpack"
	m := protocol.NewInvocation("echo", json.RawMessage(`[{"a":[1,{"$binary":"AQID"}]}]`))
	m.InvocationID, m.Fields = "7", m.Fields|protocol.FieldInvocationID
	body, err := protocol.AppendMessagePack(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	resp, answer := doReq(t, "POST", hook, "", body, hdr)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-msgpack" {
		t.Fatalf("status %d, type %q: %q", resp.StatusCode, resp.Header.Get("Content-Type"), answer)
	}
	recs, err := protocol.SplitBinaryRecords(answer)
	if err != nil || len(recs) != 1 {
		t.Fatalf("answer %x: %v", answer, err)
	}
	c, err := protocol.ParseMessagePack(recs[0], protocol.Strict)
	if err != nil || c.Type != protocol.TypeCompletion || c.InvocationID != "7" || string(c.Result) != `{"a":[1,{"$binary":"AQID"}]}` {
		t.Fatalf("completion %+v (%s): %v", c, c.Result, err)
	}
}

// TestMessagePackOverSSERefused: a MessagePack handshake on Server-Sent
// Events, which carry only text, is refused with the .NET server's text.
func TestMessagePackOverSSERefused(t *testing.T) {
	st := startStack(t, nil)
	tok := clientToken(t, st, "chat", "alice")
	n := negotiate(t, st, "chat", "alice")
	u := st.ServiceURL + "/client/?hub=chat&id=" + n.ConnectionToken
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", u, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	hs := protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: protocol.ProtocolMessagePack, Version: 1})
	if r, _ := doReq(t, "POST", u, tok, hs, nil); r.StatusCode != 200 {
		t.Fatalf("handshake POST %d", r.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body) // the stream ends once the connection closes
	want := "Cannot use the 'messagepack' protocol on the current transport. The transport does not support 'Binary' transfer format."
	if !strings.Contains(string(body), want) {
		t.Fatalf("event stream %q, want the handshake error %q", body, want)
	}
}

// TestMessagePackRawWebSocket speaks MessagePack over a raw WebSocket
// beside a JSON connection: the handshake answer and every record come in
// binary messages, a broadcast reaches both connections with the same
// values, and a bad record closes only its connection, with a MessagePack
// Close.
func TestMessagePackRawWebSocket(t *testing.T) {
	st := startStack(t, nil)
	js := connectWS(t, st, "chat", "bob")
	ws, _ := dialWS(t, st, "chat", "alice")
	hs := protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: protocol.ProtocolMessagePack, Version: 1})
	// The handshake and a Ping in one message: what follows the handshake
	// is MessagePack.
	if err := ws.Write(ctxT(t), websocket.MessageText, append(hs, 0x02, 0x91, 0x06)); err != nil {
		t.Fatal(err)
	}
	typ, p, err := ws.Read(ctxT(t))
	if err != nil || typ != websocket.MessageBinary || string(p) != "{}\x1e" {
		t.Fatalf("handshake answer %v %q %v", typ, p, err)
	}
	if err := restClient(t, st).Broadcast(ctxT(t), "chat", "n", json.RawMessage(`[{"x":1.5,"b":{"$binary":"AQID"}}]`)); err != nil {
		t.Fatal(err)
	}
	want := js.expectInvocation("n", "broadcast")
	var m protocol.Message
	for m.Type != protocol.TypeInvocation {
		typ, p, err = ws.Read(ctxT(t))
		if err != nil || typ != websocket.MessageBinary {
			t.Fatalf("read %v %v", typ, err)
		}
		recs, err := protocol.SplitBinaryRecords(p)
		if err != nil || len(recs) == 0 {
			t.Fatalf("records %x: %v", p, err)
		}
		if m, err = protocol.ParseMessagePack(recs[0], protocol.Strict); err != nil {
			t.Fatal(err)
		}
	}
	if string(m.Arguments) != string(want.Arguments) || m.Target != "n" {
		t.Fatalf("messagepack %s %s, json %s", m.Target, m.Arguments, want.Arguments)
	}
	if r, _ := m.Header("route"); r != "broadcast" {
		t.Fatalf("route %q", r)
	}
	if err := ws.Write(ctxT(t), websocket.MessageBinary, []byte{0x02, 0x91, 0xc1}); err != nil {
		t.Fatal(err)
	}
	for {
		_, p, err = ws.Read(ctxT(t))
		if err != nil {
			t.Fatalf("no Close before the socket ended: %v", err)
		}
		recs, _ := protocol.SplitBinaryRecords(p)
		if len(recs) == 0 {
			continue
		}
		c, err := protocol.ParseMessagePack(recs[len(recs)-1], protocol.Strict)
		if err == nil && c.Type == protocol.TypeClose {
			if !strings.Contains(c.Error, "Invalid message: Unrecognized type byte: 0xc1") {
				t.Fatalf("close error %q", c.Error)
			}
			break
		}
	}
	// The JSON connection is untouched.
	if err := restClient(t, st).Broadcast(ctxT(t), "chat", "after", nil); err != nil {
		t.Fatal(err)
	}
	js.expectInvocation("after", "broadcast")
}
