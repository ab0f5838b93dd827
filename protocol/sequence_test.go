package protocol

import "testing"

// TestSequenceReceiver walks a resume: messages before the Sequence are
// dropped, the replay's duplicates too (the latest one flagged, its Ack
// being due again), and new ones go through; a Sequence that skips ahead
// is the official error.
func TestSequenceReceiver(t *testing.T) {
	r := NewSequenceReceiver()
	inv := NewInvocation("t", nil)
	for i := 1; i <= 3; i++ {
		if p, _, _ := r.Receive(&inv); !p {
			t.Fatalf("message %d not processed", i)
		}
	}
	ping := NewPing()
	if p, _, _ := r.Receive(&ping); !p || r.Latest() != 3 {
		t.Fatalf("ping: processed %v, latest %d", p, r.Latest())
	}
	r.Resume()
	if p, _, _ := r.Receive(&inv); p {
		t.Fatal("a message before the Sequence was processed")
	}
	seq := NewSequence(2) // the peer replays from 2
	if p, _, e := r.Receive(&seq); !p || e != "" {
		t.Fatalf("sequence: %v %q", p, e)
	}
	if p, latest, _ := r.Receive(&inv); p || latest { // 2 again
		t.Fatalf("duplicate 2: processed %v, latest %v", p, latest)
	}
	if p, latest, _ := r.Receive(&inv); p || !latest { // 3 again
		t.Fatalf("duplicate 3: processed %v, latest %v", p, latest)
	}
	if p, _, _ := r.Receive(&inv); !p || r.Latest() != 4 { // 4 is new
		t.Fatalf("message 4: processed %v, latest %d", p, r.Latest())
	}
	ahead := NewSequence(9)
	if _, _, e := r.Receive(&ahead); e != ErrSequenceAhead {
		t.Fatalf("a Sequence ahead gave %q", e)
	}
	// A replay from 2 is cut after one duplicate; the peer then dropped
	// what the receiver acknowledged (up to 4) and resumes at 5: ahead of
	// the position (3), not of what arrived, so it is accepted.
	r.Resume()
	seq = NewSequence(2)
	r.Receive(&seq)
	r.Receive(&inv)
	r.Resume()
	seq = NewSequence(5)
	if _, _, e := r.Receive(&seq); e != "" {
		t.Fatalf("a Sequence right after the latest received: %q", e)
	}
	if p, _, _ := r.Receive(&inv); !p || r.Latest() != 5 {
		t.Fatalf("message 5: processed %v, latest %d", p, r.Latest())
	}
	seq = NewSequence(7)
	if _, _, e := r.Receive(&seq); e != ErrSequenceAhead {
		t.Fatalf("a Sequence that skips 6 gave %q", e)
	}
}

func TestIsTrackable(t *testing.T) {
	for rec, want := range map[string]bool{
		`{"type":1,"target":"t","arguments":[]}` + "\x1e": true,
		`{"type":3,"invocationId":"1"}`:                   true,
		`{"type":6}` + "\x1e":                             false,
		`{"type":7,"error":"x"}`:                          false,
		`{"type":10}`:                                     false,
		`{}` + "\x1e":                                     false,
		`{"target":"x","type":1,"arguments":[]}` + "\x1e": true, // another writer's key order
	} {
		if got := IsTrackable([]byte(rec)); got != want {
			t.Errorf("IsTrackable(%q) = %v, want %v", rec, got, want)
		}
	}
}
