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
// peer's Sequence skips messages never received, a protocol error.
func (r *SequenceReceiver) Receive(m *Message) (process, replayedLatest bool, errText string) {
	if r.waiting {
		if m.Type != TypeSequence {
			return false, false, ""
		}
		r.waiting = false
	}
	switch {
	case m.Type == TypeSequence:
		// Ahead of what arrived, not of the position in the stream: a peer
		// may have dropped what an Ack covered before this transport's
		// replay reached it (the official clients check the position, which
		// is the same as long as no Ack runs ahead of a replay).
		if m.SequenceID > r.latest+1 {
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

// ReplayChunkSize is the byte budget of one write of a resume's replay.
// A replay written as one message of the whole backlog is all or nothing:
// on a link that drops every few tens of kilobytes it never arrives, and
// every resume starts it over. In chunks, each one that arrives is
// progress the peer acknowledges on the next resume.
const ReplayChunkSize = 16 << 10

// SequenceSender is the sending half of stateful reconnect (HubProtocol.md,
// "Stateful Reconnect"), the same for a client and a service: it numbers
// the trackable messages (types 1 to 5) one side sends, from 1, across
// resumes, and keeps each until the peer acknowledges it, so that a
// resumed transport can replay what the peer may have missed.
//
// It does no I/O and never waits: how much may stay unacknowledged before
// sending stops is its owner's rule, read from Pending. It is not safe for
// concurrent use: its owner locks. The zero value is ready to use.
type SequenceSender struct {
	// Placeholder is what Replay writes for an acknowledged record: nil
	// means ReplayPlaceholder (JSON); a MessagePack connection sets
	// MessagePackReplayPlaceholder.
	Placeholder []byte

	sent  int64    // ids given so far: the latest record added has this id
	recs  [][]byte // unacknowledged records, oldest first
	bytes int      // their total size
}

// Add numbers rec, the next trackable record written, keeps it until an
// Ack covers it, and returns its id. rec must not be modified afterwards:
// a replay writes it again.
func (s *SequenceSender) Add(rec []byte) int64 {
	s.sent++
	s.recs = append(s.recs, rec)
	s.bytes += len(rec)
	return s.sent
}

// Ack drops every kept record up to and including id and returns how many
// it dropped. An Ack for records already dropped drops nothing; one past
// the latest record drops everything.
func (s *SequenceSender) Ack(id int64) int {
	n := int(min(id-s.Next()+1, int64(len(s.recs))))
	if n <= 0 {
		return 0
	}
	for _, r := range s.recs[:n] {
		s.bytes -= len(r)
	}
	clear(s.recs[:n])
	s.recs = s.recs[n:]
	return n
}

// Next returns the id of the oldest unacknowledged record, or the id the
// next record gets when none is kept: the id a resume's Sequence names,
// and where its replay starts.
func (s *SequenceSender) Next() int64 { return s.sent - int64(len(s.recs)) + 1 }

// Pending returns how many records and bytes wait for an Ack.
func (s *SequenceSender) Pending() (n, bytes int) { return len(s.recs), s.bytes }

// ReplayPlaceholder stands, in a replay, for a record the peer
// acknowledged after the replay began. Receivers number trackable
// messages by their position after the Sequence (the official clients
// too, and they refuse a second Sequence that jumps ahead), so an
// acknowledged record cannot just be left out; this Completion, for an
// invocation id no client uses, keeps its place at a fraction of its
// size, and the receiver drops it unread as a duplicate: the peer said it
// has that id.
const ReplayPlaceholder = `{"type":3,"invocationId":"acked"}` + "\x1e"

var placeholder = []byte(ReplayPlaceholder)

// MessagePackReplayPlaceholder is ReplayPlaceholder in MessagePack, length
// prefix included: a void Completion of the invocation id "acked".
var MessagePackReplayPlaceholder = []byte{0x0a, 0x94, 0x03, 0x80, 0xa5, 'a', 'c', 'k', 'e', 'd', 0x02}

// Replay appends to dst the replay from id from on, oldest first, up to
// budget bytes (a record larger than budget goes alone), and returns it
// with the id to continue from. from is the id the replay's Sequence
// named (Next, when the replay began), then what the previous call
// returned. Ids that an Ack dropped meanwhile (the peer acknowledged them
// after the replay began) come as ReplayPlaceholder: a replay written
// chunk by chunk never writes again what the peer has, and never shifts
// the ids after it. It returns nothing once the replay reached the latest
// record. The records alias what Add kept.
func (s *SequenceSender) Replay(dst [][]byte, from int64, budget int) ([][]byte, int64) {
	size := 0
	take := func(r []byte) bool {
		if size > 0 && size+len(r) > budget {
			return false
		}
		dst = append(dst, r)
		size += len(r)
		from++
		return size < budget
	}
	from = max(from, 1)
	first := s.Next()
	ph := s.Placeholder
	if ph == nil {
		ph = placeholder
	}
	for from < first {
		if !take(ph) {
			return dst, from
		}
	}
	for from-first < int64(len(s.recs)) {
		if !take(s.recs[from-first]) {
			break
		}
	}
	return dst, from
}

// AppendResume appends what starts a resumed transport before its replay:
// a Sequence naming seq, the id of the first record replayed (see
// SequenceSender.Next), then, when ack is above 0, an Ack of ack, the
// latest message received from the peer (see SequenceReceiver.Latest).
// The Ack goes right after the Sequence because the peer's replay starts
// at once: each record it covers is one the peer need not send again.
func AppendResume(dst []byte, seq, ack int64) []byte {
	m := NewSequence(seq)
	dst = AppendMessage(dst, &m)
	if ack > 0 {
		m = NewAck(ack)
		dst = AppendMessage(dst, &m)
	}
	return dst
}

// AppendResumeMessagePack is AppendResume in MessagePack.
func AppendResumeMessagePack(dst []byte, seq, ack int64) []byte {
	m := NewSequence(seq)
	// Sequence and Ack hold only a number, so they always encode.
	dst, _ = AppendMessagePack(dst, &m)
	if ack > 0 {
		m = NewAck(ack)
		dst, _ = AppendMessagePack(dst, &m)
	}
	return dst
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
