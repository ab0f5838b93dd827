package client

import (
	"errors"

	"github.com/sigr-dev/sigr/protocol"
)

// maxReplies bounds the answers waiting for room in the stateful buffer.
// Only a server that sends that many client-result invocations without
// acknowledging anything fills it.
const maxReplies = 1024

// errBufferFull is what a record that must not wait gets when the
// stateful buffer is full.
var errBufferFull = errors.New("the stateful reconnect buffer is full until the server acknowledges earlier messages")

// reply answers a server invocation that expects a result (m has an
// invocation id). Nothing in a monitor answers server-to-client
// invocations; the official clients reply with this error so that the
// caller is not left waiting.
//
// The dispatcher calls it, and the dispatcher is what processes the Acks
// that free room in a full stateful buffer: waiting for room here would
// stall the connection until the server's timeout ended it. A reply that
// finds the buffer full waits in s.replies instead, and flushReplies sends
// it, in order, once an Ack has made room.
func (s *session) reply(m *protocol.Message) {
	r := protocol.NewCompletion(m.InvocationID, nil, "Client didn't provide a result.")
	p := s.c.wp.encodeOwn(&r)
	if len(s.replies) == 0 && s.sendReply(p) {
		return
	}
	if len(s.replies) >= maxReplies {
		s.c.log.Warn("could not answer a client-result invocation: the server acknowledges nothing and too many answers wait for room",
			"target", m.Target, "waiting", len(s.replies))
		return
	}
	s.replies = append(s.replies, p)
}

// flushReplies sends the replies that waited for room, in order, until the
// buffer is full again. Only the dispatcher calls it.
func (s *session) flushReplies() {
	n := 0
	for n < len(s.replies) && s.sendReply(s.replies[n]) {
		s.replies[n] = nil
		n++
	}
	s.replies = s.replies[n:]
	if len(s.replies) == 0 {
		s.replies = nil
	}
}

// sendReply writes one reply without waiting for room; it reports false
// when the buffer was full, and true when the reply was sent or failed
// for another reason (logged: the connection is going, and the caller's
// invocation with it).
func (s *session) sendReply(p []byte) bool {
	err := s.writeRecord(s.c.ctx, p, false)
	if errors.Is(err, errBufferFull) {
		return false
	}
	if err != nil {
		s.c.log.Warn("could not answer a client-result invocation", "err", err)
	}
	return true
}
