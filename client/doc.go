// Package client is a SignalR hub connection, as the official JavaScript
// and .NET clients make it: negotiate (with a hub, or following a
// function app's redirect to Azure SignalR Service), WebSockets,
// Server-Sent Events or long polling, the JSON hub protocol's handshake,
// keep-alive, automatic reconnect and stateful reconnect. Everything that
// happens on a connection, every message and every state change, arrives
// in order on one channel of Event values, so a monitor sees all of it
// and a consumer never merges streams.
//
//	c, err := client.New(client.Options{URL: "http://127.0.0.1:7071/api", UserID: "alice"})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	go func() {
//		// A failed Start still ends Events with a Disconnected event.
//		_ = c.Start(ctx)
//	}()
//	for ev := range c.Events() {
//		// ev.Kind says which fields are set: a message, a state change,
//		// a record that failed to parse, the handshake response.
//	}
//
// Send, Invoke (or Call, then Wait) and Stream call hub methods over the
// connection; the service's management side (sending through a function app or the REST
// API, minting tokens) is package manage.
//
// # Goroutines
//
// Start runs on its caller's goroutine. After it, a Conn runs:
//
//   - the supervisor (Conn.supervise), one per Conn: it waits for the
//     current session to end and, when the end allows it, runs the
//     Reconnect policy (Reconnecting events, the delays, a new negotiate
//     and session), or moves the Conn to its final Disconnected state.
//
// and, for each session (one transport connection after negotiate; a
// reconnect makes a new session, a stateful resume keeps it and swaps its
// transport):
//
//   - the reader (session.readLoop), the only caller of the transport's
//     Read: it reads the handshake response, then splits each payload into
//     records and queues them. It never sets a deadline on Read (a
//     cancelled coder/websocket Read closes the connection); closing the
//     transport is what stops it. On a stateful session it also performs
//     the resume when the transport drops (session.resume): it first
//     waits until the dispatcher has handled every record already read
//     (session.settle), since once it dials again what arrives before the
//     server's Sequence is dropped, and a resume that fails replays
//     nothing.
//   - the dispatcher (session.dispatch): it parses the queued records and
//     delivers them (see below); it ends the session on a Close message
//     or a server that breaks stateful reconnect's rules, or once the
//     reader has stopped and the queue is drained.
//   - the keep-alive (session.keepAlive), except on long polling, whose
//     polls keep the connection alive: it pings after KeepAlive of
//     silence and ends the session after ServerTimeout with nothing
//     received. A timer that fires far too late means the process was
//     suspended: the reader then gets a grace to read what arrived
//     before the timeout is judged, and the session writes nothing of
//     its own meanwhile (session.wokeLate).
//   - the acker (session.acker, with the rest of stateful reconnect in
//     resume.go), on stateful sessions only: every AckInterval it
//     acknowledges what arrived, holding back after a suspension too.
//
// There is no writer goroutine: a write happens on the goroutine that
// wants it (a Send, Invoke or Stream caller, the keep-alive's pings, the
// acker's Acks, the dispatcher's answer to an invocation that expects a
// result, Close's Close message), bounded by writeTimeout rather than the
// caller's context, since a cancelled WebSocket write closes the
// connection. On a stateful session a trackable message waits while the
// send buffer is full, until an Ack frees room; the dispatcher, which is
// what processes Acks, never waits so: an answer that does not fit waits
// in session.replies and goes after the next Ack (session.reply). The transports make concurrent writes safe (coder/websocket
// serializes them; the HTTP transports keep one POST in flight). Short-lived
// goroutines serve a Stream whose context ends (sending CancelInvocation)
// and a graceful WebSocket close (waited for where it starts). The
// others are counted in Conn.wg, and the session goroutines in session.wg
// too: a reconnect waits for the old session's goroutines, and Close
// returns only when all have ended.
//
// # Receive path
//
//  1. The transport returns one payload (a WebSocket message, one
//     Server-Sent Events event, one poll answer). A WebSocket message is
//     read straight into a block of the reader's own (readRing) that
//     nothing overwrites until the dispatcher has copied its records out;
//     one that does not fit the room left is read apart into memory of its
//     own. The HTTP transports return a buffer they reuse. The receive time
//     is taken once per read from the socket (timedConn), not per message.
//  2. The reader splits it at each 0x1E (protocol.Framer.SplitOwned, in
//     place; a record cut across payloads waits for its separator, and one
//     longer than ReadLimit ends the connection) and drops pings in their
//     usual exact form unless Options.Pings (the dispatcher drops any
//     other). Each record is copied once, into a shared 8 KiB slab (a
//     record over 2 KiB gets its own), so an Event can be kept without
//     copying: by the dispatcher for a record in a ring block, which keeps
//     the copy and its allocation off the reader, the path every byte
//     takes; by the reader for a record in a reused buffer. All records of
//     a payload share its receive time.
//  3. The records wait in a queue (recQueue) of at most 1 024: when it is
//     full the reader waits, which leaves data in the socket and pushes
//     back on the server instead of growing memory. A resume puts two
//     other entries in it, in order with the records: a settled marker,
//     which the dispatcher closes once it has handled everything before
//     it, and the resume's Connected event.
//  4. The dispatcher takes the whole queue at once, and only after the
//     Connected event was emitted, so no message overtakes it. Each record
//     is parsed with protocol.ParseMessage (lenient, the TypeScript
//     client's rules); one that fails becomes an EventError with the
//     parser's text and the record, and the connection carries on.
//  5. On a stateful session the buffer (msgBuffer) drops what comes before
//     the server's Sequence after a resume and what the server replays
//     twice, and takes Acks (then sends the answers that waited for
//     room). Completions and stream items go to the waiting Invoke or
//     Stream (a stream item waits for its reader), and On handlers run
//     for invocations.
//  6. The Event goes on the Events channel (Options.EventBuffer, default
//     1 024). When it is full the dispatcher waits: nothing is dropped, and
//     a slow consumer slows the connection down instead. Then an
//     invocation that expects a result is answered with the official
//     clients' "Client didn't provide a result.", and a Close message ends
//     the session.
//
// State changes come from Start, the supervisor and Close; a resume's
// Connected event goes through the queue, in order with the records
// around it.
//
// # Locks
//
// Each lock guards only its own fields and none is held while a goroutine
// waits for a consumer: nothing emits an Event with a lock held, and On
// handlers run with none.
//
//   - Conn.mu guards started, closed, terminated, state and sess, and
//     Conn.wg's count (track), so that nothing starts once Close has
//     begun. It is held only to read or set them, never with another
//     lock.
//   - Conn.hmu guards the On handlers; nhandlers lets the receive path
//     skip it when there are none.
//   - invocations.mu guards the ids and the pending invocations;
//     pending.mu one invocation's result, whose finish hook runs after
//     the lock is released.
//   - session.tmu guards the session's transport: every write holds it
//     for reading while it writes, and a resume holds it for writing while
//     it swaps the transport and writes the replay, so the replay is the
//     first thing on the new transport. Close's Close message uses
//     TryRLock, so that it never waits behind a resume. Finding the
//     transport in use does not take it (session.cur): a write held up by
//     the network delays a resume, and a waiting resume every new reader,
//     so Close, session.end and the Conn's accessors would wait for both.
//   - session.endMu guards why the session ended; the first markEnd wins,
//     closes stopped and cancels the session's context.
//   - recQueue.mu guards the queued records; the wake-ups go out on
//     one-slot channels after it is released.
//   - msgBuffer.mu guards both directions' sequence state; a sender
//     waiting for room waits outside it.
//   - httpSender.mu keeps one POST in flight per HTTP transport; a waiting
//     sender gives up when its context ends.
//
// Where two are held together they are taken in this order: session.tmu,
// then session.endMu, msgBuffer.mu or (in a write) httpSender.mu.
//
// Two rules follow from the receive path for callers. An On handler runs
// on the dispatcher, so it must return quickly and must not wait on the
// connection: an Invoke from a handler waits for a Completion that only
// the dispatcher can deliver, and on a stateful connection any send from
// a handler may wait for room that only an Ack the dispatcher processes
// frees. And a consumer that waits for an Invoke or a Call, or reads a
// Stream, must keep reading Events meanwhile (on another goroutine),
// since a Completion or a stream item is delivered behind the events that
// arrived before it.
package client
