package client

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

func inv(n int) []byte {
	m := protocol.NewInvocation("t", []byte("["+strings.Repeat("1", n)+"]"))
	return protocol.AppendMessage(nil, &m)
}

// TestMsgBufferOutgoing: records are numbered from 1, kept until acked,
// replayed after a Sequence naming the oldest kept one; a full buffer
// makes add wait for an Ack.
func TestMsgBufferOutgoing(t *testing.T) {
	b := newMsgBuffer(200)
	ctx := context.Background()
	var recs [][]byte
	for i := 1; i <= 3; i++ {
		r := inv(i)
		recs = append(recs, r)
		if err := b.add(ctx, nil, r); err != nil {
			t.Fatal(err)
		}
	}
	b.ack(1)
	want := `{"type":9,"sequenceId":2}` + "\x1e" + string(recs[1]) + string(recs[2])
	if got := string(b.replay()); got != want {
		t.Fatalf("replay %q, want %q", got, want)
	}
	b.ack(3)
	if got := string(b.replay()); got != `{"type":9,"sequenceId":4}`+"\x1e" {
		t.Fatalf("replay with nothing pending %q", got)
	}

	// Backpressure: fill past the limit, then a send waits for an Ack.
	big := inv(190)
	if err := b.add(ctx, nil, big); err != nil { // id 4, over the limit now
		t.Fatal(err)
	}
	added := make(chan error, 1)
	go func() { added <- b.add(ctx, nil, inv(1)) }()
	select {
	case err := <-added:
		t.Fatalf("add returned %v while the buffer is full", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.ack(4)
	if err := <-added; err != nil {
		t.Fatal(err)
	}
	if n, _ := b.pending(); n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
	// A waiting send gives up with its context or when the connection ends.
	if err := b.add(ctx, nil, inv(300)); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := b.add(short, nil, inv(1)); err != context.DeadlineExceeded {
		t.Fatalf("add on a full buffer with a deadline: %v", err)
	}
	done := make(chan struct{})
	close(done)
	if err := b.add(ctx, done, inv(1)); err != errBufferClosed {
		t.Fatalf("add on a full buffer of a closed connection: %v", err)
	}
}

// TestMsgBufferIncoming: ids count trackable messages only; after a drop
// everything before the Sequence is dropped; replayed duplicates are
// dropped; Acks are due only for new messages; a Sequence ahead of what
// arrived is an error.
func TestMsgBufferIncoming(t *testing.T) {
	b := newMsgBuffer(0)
	msg := func(typ protocol.MessageType) *protocol.Message { return &protocol.Message{Type: typ} }
	for _, typ := range []protocol.MessageType{protocol.TypeInvocation, protocol.TypePing, protocol.TypeInvocation, protocol.TypeCompletion} {
		if ok, _ := b.incoming(msg(typ)); !ok {
			t.Fatalf("type %d not delivered", typ)
		}
	}
	if ack, ok := b.ackDue(); !ok || string(ack) != `{"type":8,"sequenceId":3}`+"\x1e" {
		t.Fatalf("ack %q %v, want Ack 3", ack, ok)
	}
	if _, ok := b.ackDue(); ok {
		t.Fatal("an Ack is due with nothing new")
	}
	b.disconnected()
	if ok, _ := b.incoming(msg(protocol.TypeInvocation)); ok {
		t.Fatal("delivered a message before the Sequence")
	}
	seq := protocol.NewSequence(3)
	if ok, e := b.incoming(&seq); !ok || e != "" {
		t.Fatalf("Sequence: %v %q", ok, e)
	}
	// The server replays 3 (a duplicate) then sends 4.
	if ok, _ := b.incoming(msg(protocol.TypeInvocation)); ok {
		t.Fatal("delivered the duplicate 3")
	}
	if ack, ok := b.ackDue(); !ok || !strings.Contains(string(ack), `"sequenceId":3`) {
		t.Fatalf("after a replayed duplicate of the latest message the Ack is due again: %q %v", ack, ok)
	}
	if ok, _ := b.incoming(msg(protocol.TypeStreamItem)); !ok {
		t.Fatal("4 not delivered")
	}
	ahead := protocol.NewSequence(9)
	if _, e := b.incoming(&ahead); e != protocol.ErrSequenceAhead {
		t.Fatalf("Sequence ahead: %q", e)
	}
	if !protocol.IsTrackable(inv(1)) || protocol.IsTrackable([]byte(`{"type":6}`)) || protocol.IsTrackable([]byte(`{"type":7,"error":"x"}`)) || !protocol.IsTrackable([]byte(`{"target":"x","type":1,"arguments":[]}`)) {
		t.Fatal("isTrackable")
	}
}
