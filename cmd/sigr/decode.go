package main

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
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/sigr-dev/sigr/protocol"
)

func init() { rootCmd.AddCommand(newDecodeCmd()) }

// decodeOptions are the flags of `sigr decode`.
type decodeOptions struct {
	// har reads a browser HAR export instead of raw bytes. Default false.
	har bool
	// strict applies the .NET parser's rules and texts; the default is
	// lenient, the TypeScript client's rules.
	strict  bool
	lenient bool
	// raw adds the record to every line. Default false (error lines
	// always carry it).
	raw bool
	// maxRecord caps one record. Default protocol.DefaultMaxRecordSize.
	maxRecord int
	// now stamps lines of raw input, which carries no capture time; tests
	// replace it.
	now func() time.Time
}

// decodeClock stamps lines of raw input; tests replace it.
var decodeClock = time.Now

func newDecodeCmd() *cobra.Command {
	opts := decodeOptions{now: func() time.Time { return decodeClock() }}
	cmd := &cobra.Command{
		Use:   "decode [FILE]",
		Short: "Decode captured SignalR traffic into JSON event lines",
		Long: `decode reads captured SignalR JSON hub protocol traffic and writes one JSON
event line per record on standard output, in the schema of 'sigr watch'.

The input (FILE, or standard input when FILE is absent or "-") is either the raw
bytes of frames with their 0x1E record separators, as copied from a browser's
WebSocket inspector, or with --har a HAR file exported from the browser's
Network panel (its WebSocket messages, in order, with their capture times).

A record without "type" that has "protocol" is a handshake request; one that is
the first record, or follows a handshake request, is a handshake response. A
malformed record gives an "error" line with the parser's own message and the
record as "raw", and decoding goes on. The exit status is 1 when any record
failed to decode.`,
		Example: `  printf '{"type":1,"target":"a","arguments":[1]}\x1e{"type":6}\x1e' | sigr decode
  sigr decode --har capture.har --strict`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cmd.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return fmt.Errorf("decode: %w", err)
				}
				defer f.Close()
				in = f
			}
			return runDecode(in, cmd.OutOrStdout(), opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.har, "har", false, "read a HAR file (browser Network export) instead of raw 0x1E-separated bytes")
	fl.BoolVar(&opts.strict, "strict", false, "validate like the .NET server, with its exact error texts")
	fl.BoolVar(&opts.lenient, "lenient", false, "validate like the official TypeScript client (the default)")
	fl.BoolVar(&opts.raw, "raw", false, "add each record as raw (or rawBase64) to its line")
	fl.IntVar(&opts.maxRecord, "max-record-size", protocol.DefaultMaxRecordSize, "largest record in bytes; a longer one is reported and skipped")
	cmd.MarkFlagsMutuallyExclusive("strict", "lenient")
	return cmd
}

// runDecode decodes in to event lines on out. It returns an exitError with
// status 1 and no message when some record failed, so that main prints
// nothing more.
func runDecode(in io.Reader, out io.Writer, opts decodeOptions) error {
	if opts.now == nil {
		opts.now = time.Now
	}
	mode := protocol.Lenient
	if opts.strict {
		mode = protocol.Strict
	}
	w := bufio.NewWriter(out)
	d := &decoder{w: w, mode: mode, raw: opts.raw, maxRecord: opts.maxRecord}
	var err error
	if opts.har {
		err = d.decodeHAR(in, opts.now)
	} else {
		err = d.decodeRaw(in, opts.now)
	}
	if ferr := w.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("decode: writing output: %w", ferr)
	}
	if err != nil {
		return err
	}
	if d.failed > 0 {
		return exitError{code: 1}
	}
	return nil
}

// decoder turns records into event lines. One decoder serves a whole run;
// stream holds what belongs to one connection.
type decoder struct {
	w         *bufio.Writer
	mode      protocol.Mode
	raw       bool
	maxRecord int
	failed    int
	line      []byte
	werr      error
}

// stream is one captured connection: a Framer per direction (records may
// be split across frames) and where the handshake stands.
type stream struct {
	framers   map[string]*protocol.Framer
	seen      bool // a record was classified already
	afterReq  bool // the last record was a handshake request
	ctx       protocol.EventContext
	direction string
}

func (d *decoder) newStream() *stream {
	return &stream{framers: map[string]*protocol.Framer{}}
}

func (s *stream) framer(direction string, limit int) *protocol.Framer {
	f, ok := s.framers[direction]
	if !ok {
		f = &protocol.Framer{MaxRecordSize: limit}
		s.framers[direction] = f
	}
	return f
}

// decodeRaw reads raw bytes in chunks, so a large capture streams through
// with memory bounded by the record limit.
func (d *decoder) decodeRaw(in io.Reader, now func() time.Time) error {
	s := d.newStream()
	f := s.framer("", d.maxRecord)
	buf := make([]byte, 64<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			f.Feed(buf[:n])
			d.drain(s, f, now())
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("decode: reading input: %w", err)
		}
	}
	d.finish(s, f, now())
	return d.werr
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

func (d *decoder) decodeHAR(in io.Reader, now func() time.Time) error {
	var h harFile
	if err := json.NewDecoder(in).Decode(&h); err != nil {
		return fmt.Errorf("decode: the input is not a HAR file: %w", err)
	}
	sockets := 0
	for _, e := range h.Log.Entries {
		if len(e.WebSocketMessages) > 0 {
			sockets++
		}
	}
	if sockets == 0 {
		return errors.New("decode: the HAR file holds no WebSocket messages; export it from the browser's Network panel after the socket has carried traffic")
	}
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
		// Only the hub name is taken from the URL: its query may hold an
		// access token, which must never be printed.
		if u, err := url.Parse(e.Request.URL); err == nil {
			s.ctx.Hub = u.Query().Get("hub")
		}
		var last time.Time
		for _, msg := range e.WebSocketMessages {
			t := harTime(msg.Time, now)
			last = t
			data := []byte(msg.Data)
			if msg.Opcode == 2 {
				// Binary frames are stored base64-encoded.
				if b, err := base64.StdEncoding.DecodeString(msg.Data); err == nil {
					data = b
				}
			}
			s.direction = msg.Type
			f := s.framer(msg.Type, d.maxRecord)
			f.Feed(data)
			d.drain(s, f, t)
		}
		if last.IsZero() {
			last = now()
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
	}
	return d.werr
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

// drain decodes every complete record the framer holds.
func (d *decoder) drain(s *stream, f *protocol.Framer, t time.Time) {
	for {
		rec, ok, err := f.Next()
		if err != nil {
			d.errorLine(s, t, err.Error(), nil)
			continue
		}
		if !ok {
			return
		}
		d.record(s, rec, t)
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

// record classifies and decodes one record.
func (d *decoder) record(s *stream, rec []byte, t time.Time) {
	first, afterReq := !s.seen, s.afterReq
	s.seen, s.afterReq = true, false
	ctx := s.ctx
	if d.raw {
		ctx.Raw = rec
	}
	hasType, hasProtocol := topLevelMembers(rec)
	switch {
	case !hasType && hasProtocol:
		// A malformed request is still the request the server answers.
		s.afterReq = true
		r, err := protocol.ParseHandshakeRequest(rec)
		if err != nil {
			d.errorLine(s, t, err.Error(), rec)
			return
		}
		d.emit(s, protocol.AppendHandshakeRequestEvent(d.line[:0], t, r, ctx))
	case !hasType && (first || afterReq):
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
	d.failed++
	ctx := s.ctx
	ctx.Raw = rec
	d.emit(s, protocol.AppendErrorEvent(d.line[:0], t, text, ctx))
}

// emit writes one line, adding "direction" after "event" for HAR input.
func (d *decoder) emit(s *stream, line []byte) {
	d.line = line
	if s.direction != "" {
		line = insertDirection(line, s.direction)
		d.line = line
	}
	if d.werr == nil {
		_, d.werr = d.w.Write(line)
		if d.werr != nil {
			d.werr = fmt.Errorf("decode: writing output: %w", d.werr)
		}
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
