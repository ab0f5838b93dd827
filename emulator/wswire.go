package emulator

import (
	"bufio"
	"encoding/binary"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// wsWire is the socket under one WebSocket. The emulator writes its data
// frames itself rather than through coder/websocket: the connection's
// writer does (wsSink), and so does a fan-out, straight from its loop,
// when the connection has nothing waiting (conn.sendDirect). In a
// broadcast to 5 000 connections coder/websocket's write path (its
// message and frame locks, which are channel selects, and its bufio
// writer) and waking each connection's writer goroutine cost some 7 µs a
// delivery beside the 9 µs of the write(2) itself.
//
// coder/websocket still does the upgrade, reads the socket and writes its
// control frames (pong, close) through wsConn, which takes the same lock.
// In v1.8.15 each control frame is written whole into its bufio writer
// (at most 127 bytes, as a server does not mask) and flushed at the end
// of the frame, so it reaches wsConn as one Write and never lands inside
// one of the emulator's frames.
type wsWire struct {
	mu sync.Mutex // one frame at a time on the socket
	// rest is what a direct write left unwritten (the socket buffer was
	// full): it goes out before anything else, from the writer.
	rest []byte
	// closeSent is set once coder/websocket has written a Close frame:
	// no data frame may follow it (RFC 6455 5.5.1), which its own write
	// path refused and the emulator's must refuse too.
	closeSent bool

	// fd is the socket's descriptor for direct writes, -1 when conn is no
	// plain socket or the system no Unix. A direct write calls write(2) on it itself, without
	// the locks and poller bookkeeping of net.Conn or syscall.RawConn
	// (some 0.4 µs a delivery): mu already keeps every writer of the
	// socket apart, and fdMu keeps the descriptor open meanwhile, as
	// wsConn.Close, the only way the socket is closed, takes it and marks
	// it closed first.
	fd     int
	fdMu   sync.RWMutex
	closed bool // under fdMu

	conn net.Conn // the hijacked connection

	// partials counts the direct writes the socket took only part of.
	partials atomic.Int64
}

func newWire(conn net.Conn) *wsWire {
	return &wsWire{conn: conn, fd: socketFD(conn)}
}

// tryWrite writes what the socket takes now without waiting, with one
// write(2), and reports how much that was. Called with mu held.
func (w *wsWire) tryWrite(p []byte) (int, error) {
	if !w.fdMu.TryRLock() {
		return 0, net.ErrClosed // closing
	}
	defer w.fdMu.RUnlock()
	if w.closed {
		return 0, net.ErrClosed
	}
	return writeNow(w.fd, p)
}

// flushRest writes what a direct write left, waiting for the socket.
// Called with mu held.
func (w *wsWire) flushRest() error {
	if w.rest == nil {
		return nil
	}
	_, err := w.conn.Write(w.rest)
	w.rest = nil
	return err
}

// owes reports whether a direct write left bytes for the writer.
func (w *wsWire) owes() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rest != nil
}

// writeMessage writes the batch as one unfragmented message of type op,
// after what a direct write left; an empty batch writes only that.
func (w *wsWire) writeMessage(op byte, batch [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closeSent {
		return net.ErrClosed
	}
	if err := w.flushRest(); err != nil || len(batch) == 0 {
		return err
	}
	size := 0
	for _, rec := range batch {
		size += len(rec)
	}
	bp := batchBufs.Get().(*[]byte)
	b := appendFrameHeader((*bp)[:0], op, size)
	for _, rec := range batch {
		b = append(b, rec...)
	}
	_, err := w.conn.Write(b)
	if cap(b) <= batchBytes*2 {
		*bp = b[:0]
		batchBufs.Put(bp)
	}
	return err
}

// batchBufs lends the buffers frames are built in, only for the write.
var batchBufs = sync.Pool{New: func() any { b := make([]byte, 0, batchBytes+maxFrameHeader); return &b }}

// WebSocket opcodes (RFC 6455 5.2) of the data frames the emulator writes.
const (
	opText   = 0x1
	opBinary = 0x2
	opClose  = 0x8

	maxFrameHeader = 10
)

// appendFrameHeader appends the header of an unmasked final frame of op
// carrying size bytes, as a server writes it (RFC 6455 5.2): the length
// in 7 bits, or 126 and 16 bits, or 127 and 64 bits.
func appendFrameHeader(b []byte, op byte, size int) []byte {
	b = append(b, 0x80|op)
	switch {
	case size < 126:
		return append(b, byte(size))
	case size <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 126), uint16(size))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(size))
	}
}

// appendFrame appends a whole frame of op carrying payload.
func appendFrame(b []byte, op byte, payload []byte) []byte {
	return append(appendFrameHeader(b, op, len(payload)), payload...)
}

// wsConn is the connection coder/websocket reads and writes: its writes,
// control frames only, take the wire's lock and go after what a direct
// write left.
type wsConn struct {
	net.Conn
	w *wsWire
}

// Close marks the descriptor closed for direct writes, waiting out one
// in progress, and closes the socket.
func (c wsConn) Close() error {
	c.w.fdMu.Lock()
	c.w.closed = true
	c.w.fdMu.Unlock()
	return c.Conn.Close()
}

func (c wsConn) Write(p []byte) (int, error) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	if err := c.w.flushRest(); err != nil {
		return 0, err
	}
	n, err := c.w.conn.Write(p)
	// Each control frame arrives whole (see wsWire), so p starts with
	// its header.
	if len(p) > 0 && p[0]&0x0f == opClose {
		c.w.closeSent = true
	}
	return n, err
}

// wsAccept hands coder/websocket the hijacked connection as a wsConn, and
// smaller buffers than the HTTP server's 4 KiB reader and writer, which
// every idle connection would keep for its whole life: a client sends
// little (its handshake, pings, the odd invocation) and a larger read
// goes straight into the caller's buffer, and coder/websocket writes only
// control frames. This took about 6 KB off every idle connection. wire is
// set once the upgrade hijacked the connection.
type wsAccept struct {
	http.ResponseWriter
	wire *wsWire
}

const (
	wsReadBuffer  = 1 << 10
	wsWriteBuffer = 256 // a control frame, 127 bytes at most, fits whole
)

func (w *wsAccept) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.wire = newWire(conn)
	wc := wsConn{Conn: conn, w: w.wire}
	rd := brw.Reader
	if rd.Buffered() == 0 {
		// Bytes the client sent right behind its request stay where they
		// are, in the server's reader.
		rd = bufio.NewReaderSize(wc, wsReadBuffer)
	}
	return wc, bufio.NewReadWriter(rd, bufio.NewWriterSize(wc, wsWriteBuffer)), nil
}

// wsSink is the writer's way onto a WebSocket.
type wsSink struct {
	w *wsWire
	c *conn
}

// writeBatch writes the batch as one message, in one frame; the receiver
// splits the records. A MessagePack connection's messages are binary, its
// handshake response included, as the .NET server writes them.
func (k wsSink) writeBatch(batch [][]byte) error {
	return k.w.writeMessage(k.c.opcode(), batch)
}

func (k wsSink) owes() bool { return k.w.owes() }

// opcode is the type of the connection's WebSocket messages.
func (c *conn) opcode() byte {
	if c.msgpack.Load() {
		return opBinary
	}
	return opText
}

// sendDirect writes a fan-out's frame (header and payload, the same bytes
// for every recipient of its protocol, as a server does not mask) to the
// socket from the sender's loop, without waking the connection's writer:
// only when nothing is ahead of it (the queue is empty and the writer
// holds nothing it took), the connection is a WebSocket without stateful
// reconnect, and no one else is writing to the socket. It never waits: it
// makes one write(2), and what the socket does not take now goes to the
// writer, which then waits for the socket under the watchdog. false means
// nothing was written and payload, fr's encoding for c, is to be queued.
func (c *conn) sendDirect(fr *frames, payload []byte, now int64) bool {
	w := c.wire.Load()
	if w == nil || c.sf.Load() != nil || !w.mu.TryLock() {
		return false
	}
	defer w.mu.Unlock()
	if w.rest != nil || w.closeSent || c.closing() || c.backlog.Load() {
		return false
	}
	frame := fr.ws(c, payload)
	n, err := w.tryWrite(frame)
	if err != nil || n == 0 {
		// A failed socket: the writer's own write will fail and say why.
		return false
	}
	c.lastDirect.Store(now)
	if n < len(frame) {
		w.rest = frame[n:] // frame is never written to again
		w.partials.Add(1)
		c.out.signal()
	}
	return true
}
