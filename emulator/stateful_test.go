package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// rawSocket is one WebSocket of a raw stateful client: it does no
// protocol work of its own, so the test sees and sends exact records.
type rawSocket struct {
	t    *testing.T
	ws   *websocket.Conn
	recs chan protocol.Message
	end  chan error
}

// negotiateStateful calls the service negotiate with or without
// useStatefulReconnect=true.
func negotiateStateful(t *testing.T, st *Stack, hub, user string, ask bool) (protocol.NegotiateResponse, []byte) {
	t.Helper()
	u := st.ServiceURL + "/client/negotiate?hub=" + url.QueryEscape(hub) + "&negotiateVersion=1"
	if ask {
		u += "&UseStatefulReconnect=true" // the name is matched without regard to case
	}
	resp, body := doReq(t, "POST", u, clientToken(t, st, hub, user), nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("negotiate: %d %s", resp.StatusCode, body)
	}
	n, err := protocol.ParseNegotiateResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	return n, body
}

// openRaw dials the connection token's socket; status is the HTTP status
// of a refused upgrade (0 when it worked).
func openRaw(t *testing.T, st *Stack, hub, user, tok string) (*rawSocket, int) {
	t.Helper()
	ws, resp, err := websocket.Dial(ctxT(t), st.wsURL(hub, tok), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + clientToken(t, st, hub, user)}},
	})
	if err != nil {
		if resp == nil {
			t.Fatalf("dial: %v", err)
		}
		return nil, resp.StatusCode
	}
	ws.SetReadLimit(-1)
	r := &rawSocket{t: t, ws: ws, recs: make(chan protocol.Message, 4096), end: make(chan error, 1)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var f protocol.Framer
		for {
			_, data, err := ws.Read(context.Background())
			if err != nil {
				r.end <- err
				close(r.recs)
				return
			}
			f.Feed(data)
			for {
				rec, ok, err := f.Next()
				if err != nil || !ok {
					break
				}
				if len(rec) == 2 && string(rec) == "{}" {
					r.recs <- protocol.Message{Type: -1} // the handshake answer
					continue
				}
				m, err := protocol.ParseMessage(bytes.Clone(rec), protocol.Strict)
				if err != nil {
					t.Errorf("unreadable record %q: %v", rec, err)
					continue
				}
				if m.Type != protocol.TypePing {
					r.recs <- m
				}
			}
		}
	}()
	t.Cleanup(func() { _ = ws.CloseNow(); <-done })
	return r, 0
}

func (r *rawSocket) send(recs ...string) {
	r.t.Helper()
	if err := r.ws.Write(ctxT(r.t), websocket.MessageText, []byte(strings.Join(recs, ""))); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// next returns the next record that is not a Ping.
func (r *rawSocket) next() protocol.Message {
	r.t.Helper()
	select {
	case m, ok := <-r.recs:
		if !ok {
			r.t.Fatal("socket ended while a record was expected")
		}
		return m
	case <-time.After(5 * time.Second):
		r.t.Fatal("no record within 5 s")
	}
	return protocol.Message{}
}

// nextInvocation returns the number carried by the next record, which
// must be an invocation of "n".
func (r *rawSocket) nextInvocation() int {
	r.t.Helper()
	m := r.next()
	if m.Type != protocol.TypeInvocation || m.Target != "n" {
		r.t.Fatalf("got type %d target %q, want invocation n", m.Type, m.Target)
	}
	var args []int
	if err := json.Unmarshal(m.Arguments, &args); err != nil || len(args) != 1 {
		r.t.Fatalf("arguments %s", m.Arguments)
	}
	return args[0]
}

func hs(version int) string {
	return string(protocol.AppendHandshakeRequest(nil, protocol.HandshakeRequest{Protocol: "json", Version: version}))
}

func rec(m protocol.Message) string { return string(protocol.AppendMessage(nil, &m)) }

func sendNumbers(t *testing.T, st *Stack, connID string, from, to int) {
	t.Helper()
	rc := restClient(t, st)
	for i := from; i <= to; i++ {
		if err := rc.SendToConnection(ctxT(t), "chat", connID, "n", json.RawMessage(fmt.Sprintf("[%d]", i))); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNegotiateOffersStatefulReconnectOnlyWhenAsked(t *testing.T) {
	st := startStack(t, nil)
	if n, body := negotiateStateful(t, st, "chat", "alice", true); !n.UseStatefulReconnect || !bytes.Contains(body, []byte(`"useStatefulReconnect":true`)) {
		t.Fatalf("asked: %s", body)
	}
	if _, body := negotiateStateful(t, st, "chat", "alice", false); bytes.Contains(body, []byte("useStatefulReconnect")) {
		t.Fatalf("not asked: %s", body)
	}
	off := startStack(t, func(o *StackOptions) { o.Service.DisableStatefulReconnect = true })
	if _, body := negotiateStateful(t, off, "chat", "alice", true); bytes.Contains(body, []byte("useStatefulReconnect")) {
		t.Fatalf("disabled: %s", body)
	}
}

// TestStatefulResume breaks a stateful socket and resumes the connection
// on a new one with the same id=: the service sends Sequence, replays
// what was not acknowledged (including what was sent while no socket was
// up), drops the client's duplicates and acknowledges the rest.
func TestStatefulResume(t *testing.T) {
	st := startStack(t, func(o *StackOptions) { o.Service.AckInterval = 30 * time.Millisecond })
	n, _ := negotiateStateful(t, st, "chat", "alice", true)
	a, _ := openRaw(t, st, "chat", "alice", n.ConnectionToken)
	a.send(hs(2), rec(protocol.NewPing()))
	if m := a.next(); m.Type != -1 {
		t.Fatalf("first record type %d, want the handshake answer", m.Type)
	}
	sendNumbers(t, st, n.ConnectionID, 1, 5)
	for want := 1; want <= 5; want++ {
		if got := a.nextInvocation(); got != want {
			t.Fatalf("message %d, want %d", got, want)
		}
	}
	// The client processed 1 to 3 and sends one invocation of its own
	// (its id 1), which the service acknowledges.
	a.send(rec(protocol.NewAck(3)), `{"type":1,"target":"x","arguments":[]}`+"\x1e")
	if m := a.next(); m.Type != protocol.TypeAck || m.SequenceID != 1 {
		t.Fatalf("got %+v, want Ack 1", m)
	}
	_ = a.ws.CloseNow() // the network drops: no close frame
	waitFor(t, func() bool {
		st.Service.mu.Lock()
		defer st.Service.mu.Unlock()
		return st.Service.tokens[n.ConnectionToken].detached
	})
	sendNumbers(t, st, n.ConnectionID, 6, 7) // while no socket is up
	if !st.Service.exists("chat", toConn, n.ConnectionID) {
		t.Fatal("the connection is gone while it waits for a resume")
	}

	b, status := openRaw(t, st, "chat", "alice", n.ConnectionToken)
	if status != 0 {
		t.Fatalf("resume refused with %d", status)
	}
	if m := b.next(); m.Type != protocol.TypeSequence || m.SequenceID != 4 {
		t.Fatalf("first record after the resume %+v, want Sequence 4", m)
	}
	for want := 4; want <= 7; want++ {
		if got := b.nextInvocation(); got != want {
			t.Fatalf("replayed %d, want %d", got, want)
		}
	}
	// The client resumes with Sequence 1, replays its invocation 1 (a
	// duplicate) and sends a new one (2): the Ack must say 2, not 3.
	inv := `{"type":1,"target":"x","arguments":[]}` + "\x1e"
	b.send(rec(protocol.NewSequence(1)), inv, inv)
	if m := b.next(); m.Type != protocol.TypeAck || m.SequenceID != 2 {
		t.Fatalf("got %+v, want Ack 2", m)
	}
	sendNumbers(t, st, n.ConnectionID, 8, 8)
	if got := b.nextInvocation(); got != 8 {
		t.Fatalf("after the resume %d, want 8", got)
	}
	st.Service.mu.Lock()
	resumes := st.Service.tokens[n.ConnectionToken].resumes
	st.Service.mu.Unlock()
	if resumes != 1 {
		t.Fatalf("%d resumes, want 1", resumes)
	}
}

// TestStatefulTakeover resumes on a new socket while the service still
// thinks the old one is up (a half-open connection): the new socket wins
// and the old one is closed.
func TestStatefulTakeover(t *testing.T) {
	st := startStack(t, nil)
	n, _ := negotiateStateful(t, st, "chat", "bob", true)
	a, _ := openRaw(t, st, "chat", "bob", n.ConnectionToken)
	a.send(hs(2))
	a.next()
	sendNumbers(t, st, n.ConnectionID, 1, 2)
	a.nextInvocation()
	a.nextInvocation()
	b, status := openRaw(t, st, "chat", "bob", n.ConnectionToken)
	if status != 0 {
		t.Fatalf("takeover refused with %d", status)
	}
	if m := b.next(); m.Type != protocol.TypeSequence || m.SequenceID != 1 {
		t.Fatalf("got %+v, want Sequence 1 (nothing was acknowledged)", m)
	}
	if x, y := b.nextInvocation(), b.nextInvocation(); x != 1 || y != 2 {
		t.Fatalf("replayed %d, %d; want 1, 2", x, y)
	}
	select {
	case <-a.end:
	case <-time.After(5 * time.Second):
		t.Fatal("the old socket was not closed")
	}
}

// TestStatefulGraceAndRefusals: a connection not resumed in time is gone
// (404 on the resume); without stateful reconnect, or with a version 1
// handshake, a second socket is still 409 and a dropped socket ends the
// connection; a Sequence ahead of what was sent is a protocol error.
func TestStatefulGraceAndRefusals(t *testing.T) {
	st := startStack(t, func(o *StackOptions) { o.Service.StatefulReconnectGrace = 100 * time.Millisecond })

	n, _ := negotiateStateful(t, st, "chat", "carol", true)
	a, _ := openRaw(t, st, "chat", "carol", n.ConnectionToken)
	a.send(hs(2))
	a.next()
	_ = a.ws.CloseNow()
	waitFor(t, func() bool { return !st.Service.exists("chat", toConn, n.ConnectionID) })
	if _, status := openRaw(t, st, "chat", "carol", n.ConnectionToken); status != 404 {
		t.Fatalf("resume after the grace period: %d, want 404", status)
	}

	for _, tc := range []struct {
		name    string
		ask     bool
		version int
	}{{"not negotiated", false, 2}, {"version 1 handshake", true, 1}} {
		t.Run(tc.name, func(t *testing.T) {
			n, _ := negotiateStateful(t, st, "chat", "dave", tc.ask)
			a, _ := openRaw(t, st, "chat", "dave", n.ConnectionToken)
			a.send(hs(tc.version))
			a.next()
			if _, status := openRaw(t, st, "chat", "dave", n.ConnectionToken); status != 409 {
				t.Fatalf("second socket: %d, want 409", status)
			}
			_ = a.ws.CloseNow()
			waitFor(t, func() bool { return !st.Service.exists("chat", toConn, n.ConnectionID) })
		})
	}

	n, _ = negotiateStateful(t, st, "chat", "erin", true)
	a, _ = openRaw(t, st, "chat", "erin", n.ConnectionToken)
	a.send(hs(2))
	a.next()
	a.send(rec(protocol.NewSequence(5)))
	m := a.next()
	if m.Type != protocol.TypeClose || !strings.Contains(m.Error, protocol.ErrSequenceAhead) {
		t.Fatalf("got %+v, want a Close with %q", m, protocol.ErrSequenceAhead)
	}
}

// TestStatefulBackpressure: a client that never acknowledges gets at most
// a buffer's worth of messages; the rest wait in its queue, and when that
// is full too the connection is closed with an error that says why. Other
// connections are served throughout.
func TestStatefulBackpressure(t *testing.T) {
	st := startStack(t, func(o *StackOptions) {
		o.Service.StatefulReconnectBufferSize = 300
		o.Service.QueueSize = 8
	})
	healthy := connectWS(t, st, "chat", "bob")
	n, _ := negotiateStateful(t, st, "chat", "slow", true)
	a, _ := openRaw(t, st, "chat", "slow", n.ConnectionToken)
	a.send(hs(2))
	a.next()
	sendNumbers(t, st, n.ConnectionID, 1, 4)
	got := 0
	for i := 1; i <= 4; i++ {
		a.nextInvocation()
		got++
	}
	// Each record is 96 bytes: the buffer is full after 4, so 5
	// to 12 wait in the queue (8) and do not arrive.
	sendNumbers(t, st, n.ConnectionID, 5, 12)
	select {
	case m := <-a.recs:
		n, size := st.Service.tokens[n.ConnectionToken].sf.Load().pending()
		t.Fatalf("got %+v %s while the buffer is full (%d, %d)", m, m.Arguments, n, size)
	case <-time.After(150 * time.Millisecond):
	}
	// An Ack frees room: the queued messages flow again.
	a.send(rec(protocol.NewAck(4)))
	for want := 5; want <= 8; want++ {
		if v := a.nextInvocation(); v != want {
			t.Fatalf("after the Ack: %d, want %d", v, want)
		}
	}
	// Without further Acks the queue fills up and the connection is closed.
	sendNumbers(t, st, n.ConnectionID, 13, 40)
	var last protocol.Message
	for m := range a.recs {
		last = m
	}
	if last.Type != protocol.TypeClose || !strings.Contains(last.Error, "outgoing queue of 8 messages is full") {
		t.Fatalf("last record %+v, want a Close about the full queue", last)
	}
	if err := restClient(t, st).Broadcast(ctxT(t), "chat", "still", nil); err != nil {
		t.Fatal(err)
	}
	healthy.expectInvocation("still", "broadcast")
}

// TestStatefulReplayInChunks: a resume's replay is written in messages of
// at most protocol.ReplayChunkSize bytes; after the first it waits for the
// client's Sequence, and the Ack that came with it turns what it covers,
// of the rest, into placeholders. The writes are a stub, so the client's
// Sequence and Ack land exactly between the first and second chunk.
func TestStatefulReplayInChunks(t *testing.T) {
	sf := newStateful(1<<30, time.Hour)
	defer sf.stop()
	inv := func(i int) []byte {
		m := protocol.NewInvocation("n", []byte(fmt.Sprintf("[%d,%q]", i, strings.Repeat("x", 900))))
		return protocol.AppendMessage(nil, &m)
	}
	var backlog [][]byte
	for i := 1; i <= 100; i++ {
		backlog = append(backlog, inv(i))
	}
	sf.number(append(backlog, pingRecord)) // the Ping is not numbered
	sf.resumed()
	sf.seqWait = time.Hour // the replay must go on when the Sequence comes, not on a timer
	var writes [][][]byte
	err := sf.replay(func(b [][]byte) error {
		writes = append(writes, append([][]byte(nil), b...))
		if len(writes) == 1 {
			// The client's Sequence and its Ack of what it had (up to 60)
			// arrive, in one payload, after the first write.
			for _, m := range []protocol.Message{protocol.NewSequence(1), protocol.NewAck(60)} {
				if _, e := sf.incoming(&m); e != "" {
					t.Fatal(e)
				}
			}
			sf.payloadDone()
		}
		return nil
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(writes[0][0]) != `{"type":9,"sequenceId":1}`+"\x1e" {
		t.Fatalf("first record %q, want Sequence 1", writes[0][0])
	}
	var got []int
	for i, w := range writes {
		size := 0
		for _, r := range w {
			size += len(r)
			if string(r) == protocol.ReplayPlaceholder {
				got = append(got, 0)
				continue
			}
			m, err := protocol.ParseMessage(bytes.TrimSuffix(r, []byte{protocol.RecordSeparator}), protocol.Strict)
			if err != nil {
				t.Fatal(err)
			}
			if m.Type == protocol.TypeInvocation {
				var n int
				fmt.Sscanf(string(m.Arguments), "[%d", &n)
				got = append(got, n)
			}
		}
		if size > protocol.ReplayChunkSize {
			t.Fatalf("write %d is %d bytes, over the %d-byte budget", i, size, protocol.ReplayChunkSize)
		}
	}
	perChunk := len(writes[0]) - 1
	if perChunk < 2 || perChunk >= 100 {
		t.Fatalf("the first write holds %d records: want a chunk, not one or all", perChunk)
	}
	want := []int{}
	for i := 1; i <= 100; i++ {
		switch {
		case i <= perChunk || i > 60:
			want = append(want, i)
		default:
			want = append(want, 0) // acknowledged meanwhile: a placeholder keeps its id
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v\nwant %v (1..%d, placeholders up to the Ack of 60, then 61..100)", got, want, perChunk)
	}
}

// TestStatefulResumeWireChunks resumes a stateful connection with about
// 200 KB unacknowledged through real sockets, the client sending its
// Sequence and an Ack of the first 100 messages at once, as sigr's client
// does: every WebSocket message of the replay fits the chunk budget,
// every id stays in place (what the Ack covers comes as placeholders, or
// not at all when the Ack arrived before the replay began), and the rest
// arrives in order, without the acknowledged half being sent again.
func TestStatefulResumeWireChunks(t *testing.T) {
	st := startStack(t, func(o *StackOptions) { o.Service.StatefulReconnectBufferSize = 1 << 20 })
	n, _ := negotiateStateful(t, st, "chat", "frank", true)
	a, _ := openRaw(t, st, "chat", "frank", n.ConnectionToken)
	a.send(hs(2))
	a.next()
	// The first socket gets them all and acknowledges none.
	rc := restClient(t, st)
	pad := strings.Repeat("y", 1000)
	for i := 1; i <= 200; i++ {
		if err := rc.SendToConnection(ctxT(t), "chat", n.ConnectionID, "n", json.RawMessage(fmt.Sprintf("[%d,%q]", i, pad))); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 200; i++ {
		if m := a.next(); m.Type != protocol.TypeInvocation {
			t.Fatalf("got type %d, want an invocation", m.Type)
		}
	}
	_ = a.ws.CloseNow()
	waitFor(t, func() bool {
		st.Service.mu.Lock()
		defer st.Service.mu.Unlock()
		return st.Service.tokens[n.ConnectionToken].detached
	})
	ws, _, err := websocket.Dial(ctxT(t), st.wsURL("chat", n.ConnectionToken), &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + clientToken(t, st, "chat", "frank")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	ws.SetReadLimit(-1)
	if err := ws.Write(ctxT(t), websocket.MessageText, protocol.AppendResume(nil, 1, 100)); err != nil {
		t.Fatal(err)
	}
	pos, total, records := int64(0), 0, 0
	for pos <= 200 {
		_, data, err := ws.Read(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		total += len(data)
		if len(data) > protocol.ReplayChunkSize {
			t.Fatalf("a replay message of %d bytes, over the %d-byte budget", len(data), protocol.ReplayChunkSize)
		}
		var f protocol.Framer
		f.Feed(data)
		for {
			r, ok, err := f.Next()
			if err != nil {
				t.Fatal(err)
			}
			if !ok {
				break
			}
			m, err := protocol.ParseMessage(r, protocol.Strict)
			if err != nil {
				t.Fatal(err)
			}
			if records++; records == 1 {
				if m.Type != protocol.TypeSequence || m.SequenceID < 1 || m.SequenceID > 101 {
					t.Fatalf("first record %+v, want Sequence 1 to 101", m)
				}
				pos = m.SequenceID
				continue
			}
			if !m.Type.Trackable() {
				continue
			}
			if string(r)+"\x1e" == protocol.ReplayPlaceholder {
				if pos > 100 {
					t.Fatalf("a placeholder for %d, which was not acknowledged", pos)
				}
				pos++
				continue
			}
			var got int64
			fmt.Sscanf(string(m.Arguments), "[%d", &got)
			if got != pos {
				t.Fatalf("message %d in position %d", got, pos)
			}
			pos++
		}
	}
	if total > 150_000 {
		t.Fatalf("the replay took %d bytes: the acknowledged half was sent again", total)
	}
}
