package capture

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"strconv"
	"time"

	"github.com/sigr-dev/sigr/protocol"
)

// Options configure a decode. The zero value decodes leniently.
type Options struct {
	// Mode picks the parser's rules and texts: protocol.Lenient (the
	// official TypeScript client's, the default) or protocol.Strict (the
	// .NET server's).
	Mode protocol.Mode
	// Protocol is the hub protocol of the capture: protocol.ProtocolJSON
	// (the default) or protocol.ProtocolMessagePack, whose records are
	// length-prefixed. A MessagePack capture may begin with the JSON
	// handshake, which is decoded as such; in a HAR file, text frames are
	// read as JSON and binary frames as MessagePack.
	Protocol string
	// Raw adds each record to its line (raw, or rawBase64 when it is not
	// UTF-8). Error lines always carry it. Default false.
	Raw bool
	// MaxRecordSize caps one record; a longer one is reported and skipped.
	// Default protocol.DefaultMaxRecordSize.
	MaxRecordSize int
	// Now stamps the records of raw input, which carries no capture time,
	// and HAR messages without one. Default time.Now.
	Now func() time.Time
}

// Result counts the lines a decode wrote.
type Result struct {
	Lines  int // every line, error lines included
	Failed int // error lines: records that did not decode
}

// DecodeRaw reads raw frame bytes from in, in chunks, so that a large
// capture streams through with memory bounded by the record limit, and
// writes one event line per record to w. Errors are about reading in or
// writing w; records that fail to decode are counted in Result.Failed.
func DecodeRaw(in io.Reader, w io.Writer, o Options) (Result, error) {
	d := newDecoder(w, o)
	s := d.newStream()
	f := s.framer("", d.maxRecord)
	buf := make([]byte, 64<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			if d.binary {
				d.feedBinaryRaw(s, buf[:n], d.now())
			} else {
				f.Feed(buf[:n])
				d.drain(s, f, d.now(), d.record)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// What decoded before the failure is still written.
			_, _ = d.flush()
			return d.res, fmt.Errorf("reading input: %w", err)
		}
	}
	if d.binary {
		d.finishBinary(s, d.now())
	} else {
		d.finish(s, f, d.now())
	}
	return d.flush()
}

// DecodeHAR reads a HAR file from in and writes one event line per record
// of its WebSocket messages to w, each with "direction" (send or receive)
// after "event", the hub from the socket's URL (never the rest of the URL,
// whose query may hold an access token) and, when the file holds more than
// one socket, the connection "ws1", "ws2", ... Errors are about the input
// or writing w; records that fail to decode are counted in Result.Failed.
func DecodeHAR(in io.Reader, w io.Writer, o Options) (Result, error) {
	var h harFile
	if err := json.NewDecoder(in).Decode(&h); err != nil {
		return Result{}, fmt.Errorf("the input is not a HAR file: %w", err)
	}
	sockets := 0
	for _, e := range h.Log.Entries {
		if len(e.WebSocketMessages) > 0 {
			sockets++
		}
	}
	if sockets == 0 {
		return Result{}, errors.New("the HAR file holds no WebSocket messages; export it from the browser's Network panel after the socket has carried traffic")
	}
	d := newDecoder(w, o)
	index := 0
	for _, e := range h.Log.Entries {
		if len(e.WebSocketMessages) == 0 {
			continue
		}
		index++
		s := d.newStream()
		if sockets > 1 {
			s.ctx.Connection = "ws" + strconv.Itoa(index)
		}
		if u, err := url.Parse(e.Request.URL); err == nil {
			s.ctx.Hub = u.Query().Get("hub")
		}
		var last time.Time
		for _, msg := range e.WebSocketMessages {
			t := harTime(msg.Time, d.now)
			last = t
			data := []byte(msg.Data)
			if msg.Opcode == 2 {
				// Binary frames are stored base64-encoded.
				if b, err := base64.StdEncoding.DecodeString(msg.Data); err == nil {
					data = b
				}
			}
			s.direction = msg.Type
			if d.binary && msg.Opcode == 2 {
				bf := s.binaryFramer(msg.Type, d.maxRecord)
				bf.Feed(data)
				d.drain(s, bf, t, d.binaryRecord)
				continue
			}
			f := s.framer(msg.Type, d.maxRecord)
			f.Feed(data)
			d.drain(s, f, t, d.record)
		}
		if last.IsZero() {
			last = d.now()
		}
		for _, dir := range []string{"send", "receive"} {
			if f, ok := s.framers[dir]; ok {
				s.direction = dir
				d.finish(s, f, last)
			}
		}
		for dir, f := range s.framers {
			if dir != "send" && dir != "receive" {
				s.direction = dir
				d.finish(s, f, last)
			}
		}
		for _, dir := range []string{"send", "receive"} {
			if _, ok := s.bframers[dir]; ok {
				s.direction = dir
				d.finishBinary(s, last)
			}
		}
	}
	return d.flush()
}

// decoder turns records into event lines. One decoder serves a whole
// decode; stream holds what belongs to one connection.
type decoder struct {
	w         *bufio.Writer
	mode      protocol.Mode
	binary    bool // MessagePack
	raw       bool
	maxRecord int
	now       func() time.Time
	res       Result
	line      []byte
	werr      error
}

func newDecoder(w io.Writer, o Options) *decoder {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRecordSize <= 0 {
		o.MaxRecordSize = protocol.DefaultMaxRecordSize
	}
	return &decoder{w: bufio.NewWriter(w), mode: o.Mode, raw: o.Raw, maxRecord: o.MaxRecordSize, now: o.Now,
		binary: o.Protocol == protocol.ProtocolMessagePack}
}

// flush writes what is buffered and returns the first write error.
func (d *decoder) flush() (Result, error) {
	if err := d.w.Flush(); err != nil && d.werr == nil {
		d.werr = err
	}
	if d.werr != nil {
		return d.res, fmt.Errorf("writing output: %w", d.werr)
	}
	return d.res, nil
}

// stream is one captured connection: a Framer per direction (records may
// be split across frames) and where the handshake stands.
type stream struct {
	framers   map[string]*protocol.Framer
	bframers  map[string]*protocol.BinaryFramer
	mp        protocol.MessagePackDecoder
	head      []byte // a raw MessagePack capture's JSON handshake, while it lasts
	pastHead  bool
	seen      bool // a record was classified already
	afterReq  bool // the last record was a handshake request
	ctx       protocol.EventContext
	direction string
}

func (d *decoder) newStream() *stream {
	return &stream{framers: map[string]*protocol.Framer{}, bframers: map[string]*protocol.BinaryFramer{},
		mp: protocol.MessagePackDecoder{Mode: d.mode}}
}

func (s *stream) framer(direction string, limit int) *protocol.Framer {
	f, ok := s.framers[direction]
	if !ok {
		f = &protocol.Framer{MaxRecordSize: limit}
		s.framers[direction] = f
	}
	return f
}

// harFile is the part of a HAR 1.2 file that holds WebSocket traffic, in
// the form Chrome and Edge export (_webSocketMessages on each entry).
type harFile struct {
	Log struct {
		Entries []struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
			WebSocketMessages []struct {
				Type   string  `json:"type"` // send or receive
				Time   float64 `json:"time"` // seconds since the Unix epoch
				Opcode int     `json:"opcode"`
				Data   string  `json:"data"`
			} `json:"_webSocketMessages"`
		} `json:"entries"`
	} `json:"log"`
}

// harTime converts a HAR WebSocket time (fractional Unix seconds); a
// missing one falls back to now.
func harTime(sec float64, now func() time.Time) time.Time {
	if sec <= 0 || math.IsNaN(sec) || math.IsInf(sec, 0) || sec > 1e11 {
		return now()
	}
	whole, frac := math.Modf(sec)
	// Round to microseconds, the precision browsers record.
	return time.Unix(int64(whole), int64(math.Round(frac*1e6))*1e3).UTC()
}

// framer is what drain takes records from: a protocol.Framer or a
// protocol.BinaryFramer.
type framer interface {
	Next() (record []byte, ok bool, err error)
}

// drain decodes every complete record the framer holds with decode.
func (d *decoder) drain(s *stream, f framer, t time.Time, decode func(*stream, []byte, time.Time)) {
	for {
		rec, ok, err := f.Next()
		if err != nil {
			d.errorLine(s, t, err.Error(), nil)
			continue
		}
		if !ok {
			return
		}
		decode(s, rec, t)
	}
}

// finish reports bytes left after the last separator.
func (d *decoder) finish(s *stream, f *protocol.Framer, t time.Time) {
	if f.Buffered() == 0 {
		return
	}
	// Feeding a separator turns the tail into a record, which is how the
	// bytes are taken out; they are reported, not decoded.
	f.Feed([]byte{protocol.RecordSeparator})
	rec, ok, err := f.Next()
	if err != nil || !ok {
		// The tail was already reported as too large.
		return
	}
	d.errorLine(s, t, protocol.ErrIncomplete, rec)
}

// kind is what a captured record is.
type kind uint8

const (
	hubMessage kind = iota
	handshakeRequest
	handshakeResponse
)

// classify says what rec is, given whether it is the stream's first
// record and whether it follows a handshake request.
func classify(rec []byte, first, afterRequest bool) kind {
	hasType, hasProtocol := topLevelMembers(rec)
	switch {
	case !hasType && hasProtocol:
		return handshakeRequest
	case !hasType && (first || afterRequest):
		return handshakeResponse
	}
	return hubMessage
}

// record classifies and decodes one record.
func (d *decoder) record(s *stream, rec []byte, t time.Time) {
	k := classify(rec, !s.seen, s.afterReq)
	// A malformed request is still the request the server answers.
	s.seen, s.afterReq = true, k == handshakeRequest
	ctx := s.ctx
	if d.raw {
		ctx.Raw = rec
	}
	switch k {
	case handshakeRequest:
		r, err := protocol.ParseHandshakeRequest(rec)
		if err != nil {
			d.errorLine(s, t, err.Error(), rec)
			return
		}
		d.emit(s, protocol.AppendHandshakeRequestEvent(d.line[:0], t, r, ctx))
	case handshakeResponse:
		r, err := protocol.ParseHandshakeResponse(rec)
		if err != nil {
			d.errorLine(s, t, err.Error(), rec)
			return
		}
		d.emit(s, protocol.AppendHandshakeResponseEvent(d.line[:0], t, r, ctx))
	default:
		m, err := protocol.ParseMessage(rec, d.mode)
		if err != nil {
			d.errorLine(s, t, err.Error(), rec)
			return
		}
		d.emit(s, protocol.AppendMessageEvent(d.line[:0], t, &m, ctx))
	}
}

func (d *decoder) errorLine(s *stream, t time.Time, text string, rec []byte) {
	d.res.Failed++
	ctx := s.ctx
	ctx.Raw = rec
	d.emit(s, protocol.AppendErrorEvent(d.line[:0], t, text, ctx))
}

// emit writes one line, adding "direction" after "event" for HAR input.
func (d *decoder) emit(s *stream, line []byte) {
	d.line = line
	d.res.Lines++
	if s.direction != "" {
		line = insertDirection(line, s.direction)
		d.line = line
	}
	if d.werr == nil {
		_, d.werr = d.w.Write(line)
	}
}

var eventKey = []byte(`,"event":"`)

// insertDirection puts `"direction":"send"` right after the event name,
// which every line has and which never holds a quote.
func insertDirection(line []byte, dir string) []byte {
	i := bytes.Index(line, eventKey)
	if i < 0 {
		return line
	}
	j := bytes.IndexByte(line[i+len(eventKey):], '"')
	if j < 0 {
		return line
	}
	at := i + len(eventKey) + j + 1
	field, _ := json.Marshal(dir)
	ins := append([]byte(`,"direction":`), field...)
	out := make([]byte, 0, len(line)+len(ins))
	out = append(out, line[:at]...)
	out = append(out, ins...)
	return append(out, line[at:]...)
}

// topLevelMembers reports whether the record's top-level object has a
// "type" and a "protocol" member. It reads members as far as the JSON is
// well-formed, so a broken record is still classified by what it shows.
func topLevelMembers(rec []byte) (hasType, hasProtocol bool) {
	dec := json.NewDecoder(bytes.NewReader(rec))
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return false, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		name, ok := tok.(string)
		if !ok {
			return
		}
		switch name {
		case "type":
			hasType = true
		case "protocol":
			hasProtocol = true
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return
		}
	}
	return
}
