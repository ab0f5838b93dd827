package protocol

// ErrSequenceAhead is the official text for a Sequence message that skips
// messages the receiver never got.
const ErrSequenceAhead = "Sequence ID greater than amount of messages we've received."

// SequenceReceiver is the receiving half of stateful reconnect
// (HubProtocol.md, "Stateful Reconnect"), the same for a client and a
// service: it numbers the trackable messages (types 1 to 5) a peer sends,
// from 1, across resumes, so that what the peer replays after a resume is
// not processed twice, and it drops everything between a resume and the
// peer's Sequence. It is not safe for concurrent use: its owner locks.
type SequenceReceiver struct {
	next    int64 // id the next trackable message gets
	latest  int64 // highest id processed
	waiting bool  // resumed, and the peer's Sequence has not come yet
}

// NewSequenceReceiver returns a receiver expecting message 1.
func NewSequenceReceiver() SequenceReceiver { return SequenceReceiver{next: 1} }

// Resume marks a new transport under the same connection: messages are
// dropped until the peer's Sequence says where it restarts.
func (r *SequenceReceiver) Resume() { r.waiting = true }

// Latest returns the id of the latest message processed, the one an Ack
// acknowledges.
func (r *SequenceReceiver) Latest() int64 { return r.latest }

// Receive decides about one incoming message. process is true for a new
// trackable message and for every message that is not trackable (Ack and
// Sequence included: a Sequence is applied here, an Ack is for the caller
// to apply to what it sent). It is false for a replayed duplicate and for
// anything before the Sequence that follows a resume. replayedLatest is
// true when the duplicate is the latest message processed: the peer
// missed the Ack for it, which is due again. errText is set when the
// peer's Sequence skips messages, a protocol error.
func (r *SequenceReceiver) Receive(m *Message) (process, replayedLatest bool, errText string) {
	if r.waiting {
		if m.Type != TypeSequence {
			return false, false, ""
		}
		r.waiting = false
	}
	switch {
	case m.Type == TypeSequence:
		if m.SequenceID > r.next {
			return false, false, ErrSequenceAhead
		}
		r.next = m.SequenceID
		return true, false, ""
	case !m.Type.Trackable():
		return true, false, ""
	}
	id := r.next
	r.next++
	if id <= r.latest {
		return false, id == r.latest, ""
	}
	r.latest = id
	return true, false, ""
}

// IsTrackable reports whether an encoded record, with or without its
// record separator, is a hub message of types 1 to 5, the ones stateful
// reconnect numbers. AppendMessage writes `{"type":N` first, so the
// prefix usually decides; anything else is parsed.
func IsTrackable(record []byte) bool {
	const prefix = `{"type":`
	if len(record) > len(prefix)+1 && string(record[:len(prefix)]) == prefix {
		if d, next := record[len(prefix)], record[len(prefix)+1]; next == ',' || next == '}' {
			return MessageType(d - '0').Trackable()
		}
	}
	if n := len(record); n > 0 && record[n-1] == RecordSeparator {
		record = record[:n-1]
	}
	m, err := ParseMessage(record, Lenient)
	return err == nil && m.Type.Trackable()
}
