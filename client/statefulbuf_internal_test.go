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
// and a resume starts with a Sequence naming the oldest kept one, then
// replays them; a full buffer refuses a record and hands out a channel
// that the next Ack closes.
func TestMsgBufferOutgoing(t *testing.T) {
	b := newMsgBuffer(200)
	var recs [][]byte
	for i := 1; i <= 3; i++ {
		r := inv(i)
		recs = append(recs, r)
		if _, ok := b.add(r); !ok {
			t.Fatalf("record %d refused", i)
		}
	}
	b.ack(1)
	head, from, ack := b.resumeHead()
	if string(head) != `{"type":9,"sequenceId":2}`+"\x1e" || from != 2 || ack != 0 {
		t.Fatalf("resume head %q from %d ack %d; want Sequence 2 alone (nothing received)", head, from, ack)
	}
	chunk, next := b.replay(nil, from, 1<<20)
	if len(chunk) != 2 || string(chunk[0]) != string(recs[1]) || string(chunk[1]) != string(recs[2]) || next != 4 {
		t.Fatalf("replay %q next %d", chunk, next)
	}
	b.ack(3)
	if head, from, _ := b.resumeHead(); string(head) != `{"type":9,"sequenceId":4}`+"\x1e" || from != 4 {
		t.Fatalf("resume head with nothing pending %q", head)
	}

	// Backpressure: past the limit a record is refused until an Ack.
	if _, ok := b.add(inv(190)); !ok { // id 4, over the limit now
		t.Fatal("refused while the buffer had room")
	}
	room, ok := b.add(inv(1))
	if ok || room == nil {
		t.Fatal("a full buffer took a record")
	}
	select {
	case <-room:
		t.Fatal("room signalled before an Ack")
	default:
	}
	b.ack(4)
	select {
	case <-room:
	default:
		t.Fatal("an Ack that freed room did not signal it")
	}
	if _, ok := b.add(inv(1)); !ok {
		t.Fatal("refused after the Ack")
	}
	if n, _ := b.pending(); n != 1 {
		t.Fatalf("%d pending, want 1", n)
	}
}

// TestLockAndKeep: a send waits for room without holding the transport
// lock (a resume can take it meanwhile), and gives up with its context or
// when the session stops.
func TestLockAndKeep(t *testing.T) {
	s := &session{buf: newMsgBuffer(100), stopped: make(chan struct{})}
	ctx := context.Background()
	if err := s.lockAndKeep(ctx, inv(150), true); err != nil {
		t.Fatal(err)
	}
	s.tmu.RUnlock()
	kept := make(chan error, 1)
	go func() {
		err := s.lockAndKeep(ctx, inv(1), true)
		if err == nil {
			s.tmu.RUnlock()
		}
		kept <- err
	}()
	// While the send waits, a resume can take the lock for writing.
	locked := make(chan struct{})
	go func() { s.tmu.Lock(); close(locked) }()
	select {
	case <-locked:
		s.tmu.Unlock()
	case <-time.After(5 * time.Second):
		t.Fatal("a send waiting for room holds the transport lock")
	}
	select {
	case err := <-kept:
		t.Fatalf("kept (%v) while the buffer is full", err)
	default:
	}
	s.buf.ack(1)
	if err := <-kept; err != nil {
		t.Fatal(err)
	}
	if err := s.lockAndKeep(ctx, inv(150), true); err != nil { // full again
		t.Fatal(err)
	}
	s.tmu.RUnlock()
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := s.lockAndKeep(short, inv(1), true); err != context.DeadlineExceeded {
		t.Fatalf("on a full buffer with a deadline: %v", err)
	}
	close(s.stopped)
	if err := s.lockAndKeep(ctx, inv(1), true); err != errBufferClosed {
		t.Fatalf("on a full buffer of a stopped session: %v", err)
	}
}

// TestMsgBufferIncoming: ids count trackable messages only; after a drop
// everything before the Sequence is dropped; replayed duplicates are
// dropped; an Ack is due until one is written, for new messages and
// again when the server replays the latest one; a Sequence ahead of
// what arrived is an error.
func TestMsgBufferIncoming(t *testing.T) {
	b := newMsgBuffer(0)
	msg := func(typ protocol.MessageType) *protocol.Message { return &protocol.Message{Type: typ} }
	for _, typ := range []protocol.MessageType{protocol.TypeInvocation, protocol.TypePing, protocol.TypeInvocation, protocol.TypeCompletion} {
		if ok, _ := b.incoming(msg(typ)); !ok {
			t.Fatalf("type %d not delivered", typ)
		}
	}
	ack, n, ok := b.ackDue()
	if !ok || n != 3 || string(ack) != `{"type":8,"sequenceId":3}`+"\x1e" {
		t.Fatalf("ack %q %d %v, want Ack 3", ack, n, ok)
	}
	// Not written (the write failed): still due.
	if _, n, ok := b.ackDue(); !ok || n != 3 {
		t.Fatal("an Ack that was never written is no longer due")
	}
	b.acked(3)
	if _, _, ok := b.ackDue(); ok {
		t.Fatal("an Ack is due with nothing new")
	}
	b.disconnected()
	if ok, _ := b.incoming(msg(protocol.TypeInvocation)); ok {
		t.Fatal("delivered a message before the Sequence")
	}
	if head, _, ack := b.resumeHead(); ack != 3 || !strings.HasSuffix(string(head), `{"type":8,"sequenceId":3}`+"\x1e") {
		t.Fatalf("resume head %q: want an Ack of 3 right after the Sequence", head)
	}
	seq := protocol.NewSequence(3)
	if ok, e := b.incoming(&seq); !ok || e != "" {
		t.Fatalf("Sequence: %v %q", ok, e)
	}
	// The server replays 3 (a duplicate) then sends 4.
	if ok, _ := b.incoming(msg(protocol.TypeInvocation)); ok {
		t.Fatal("delivered the duplicate 3")
	}
	if ack, _, ok := b.ackDue(); !ok || !strings.Contains(string(ack), `"sequenceId":3`) {
		t.Fatalf("after a replayed duplicate of the latest message the Ack is due again: %q %v", ack, ok)
	}
	if ok, _ := b.incoming(msg(protocol.TypeStreamItem)); !ok {
		t.Fatal("4 not delivered")
	}
	if recv, _ := b.progress(); recv != 4 {
		t.Fatalf("progress %d, want 4", recv)
	}
	ahead := protocol.NewSequence(9)
	if _, e := b.incoming(&ahead); e != protocol.ErrSequenceAhead {
		t.Fatalf("Sequence ahead: %q", e)
	}
}

// TestResumeTracker: only resumed transports that brought nothing new
// (nothing delivered, nothing of ours acknowledged) and were short-lived
// count, in a row.
func TestResumeTracker(t *testing.T) {
	var r resumeTracker
	t0 := time.Now()
	if n := r.dropped(0, 1, t0); n != 0 {
		t.Fatalf("the first transport's drop counted %d", n)
	}
	r.up(0, 1, t0)
	if n := r.dropped(0, 1, t0.Add(10*time.Millisecond)); n != 1 {
		t.Fatalf("a resume that brought nothing: %d, want 1", n)
	}
	r.up(0, 1, t0)
	if n := r.dropped(0, 1, t0.Add(10*time.Millisecond)); n != 2 {
		t.Fatalf("two in a row: %d, want 2", n)
	}
	r.up(0, 1, t0)
	if n := r.dropped(5, 1, t0.Add(10*time.Millisecond)); n != 0 {
		t.Fatalf("a delivery resets the count: %d", n)
	}
	r.up(5, 1, t0)
	r.dropped(5, 1, t0.Add(time.Millisecond))
	r.up(5, 1, t0)
	if n := r.dropped(5, 2, t0.Add(10*time.Millisecond)); n != 0 {
		t.Fatalf("an Ack of ours resets the count: %d", n)
	}
	r.up(5, 2, t0)
	if n := r.dropped(5, 2, t0.Add(resumeMinLife)); n != 0 {
		t.Fatalf("a transport that lasted resets the count: %d", n)
	}
}
