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
