package client

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"sync"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/sigr-dev/sigr/protocol"
)

// sseTransport is the Server-Sent Events transport: the server's data
// arrives on one long GET answered as text/event-stream, one SignalR
// payload per event; the client's data goes out as POSTs.
type sseTransport struct {
	shown  string // redacted URL, for errors
	body   io.ReadCloser
	rd     *bufio.Reader
	cancel context.CancelFunc // ends the stream
	send   *httpSender
	limit  int // largest event accepted, in bytes

	line []byte // a line longer than the reader's buffer, assembled
	ev   []byte // the event being assembled; returned by Read

	closeOnce sync.Once
	closed    chan struct{}
}

// sseBufferSize is the line reader's buffer. A longer line is assembled
// in sseTransport.line, up to the read limit.
const sseBufferSize = 16 << 10

// dialSSE opens the event stream: GET [endpoint]?id=<token> with Accept:
// text/event-stream. The server answers 200 and writes the comment line
// ":" first; 400, 404 or 409 (another stream) refuse it. ctx bounds only
// the wait for the answer: the stream then lives until Close.
func dialSSE(ctx context.Context, c *Conn, t dialTarget) (transport, error) {
	shown := textsafe.RedactURL(t.connectURL)
	sctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(sctx, http.MethodGet, t.connectURL, nil)
	if err != nil {
		cancel()
		return nil, &Error{Op: "connect", URL: shown, Msg: "invalid URL", Permanent: true, Err: err}
	}
	req.Header = transportHeader(t)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	stop := context.AfterFunc(ctx, cancel)
	// The stream is long-lived, so the client's Timeout must not apply;
	// ctx bounds the dial instead.
	resp, err := c.wsHTTPClient().Do(req)
	if !stop() {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, ctx.Err()
	}
	if err != nil {
		cancel()
		return nil, &Error{Op: "connect", URL: shown, Msg: "Server-Sent Events request failed", Err: textsafe.WithoutURL(err)}
	}
	if resp.StatusCode != http.StatusOK {
		body := readSnippet(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, statusError("connect", shown, resp.StatusCode, body)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		resp.Body.Close()
		cancel()
		return nil, &Error{Op: "connect", URL: shown, Status: resp.StatusCode,
			Msg: fmt.Sprintf("the server answered the event stream request with Content-Type %q, not text/event-stream; a proxy may be buffering or rewriting it", textsafe.Line(resp.Header.Get("Content-Type")))}
	}
	limit := int(c.opts.ReadLimit)
	if c.opts.ReadLimit < 0 {
		limit = int(^uint(0) >> 1)
	}
	return &sseTransport{
		shown:  shown,
		body:   resp.Body,
		rd:     bufio.NewReaderSize(resp.Body, sseBufferSize),
		cancel: cancel,
		send:   newHTTPSender(c.opts.HTTPClient, t),
		limit:  limit,
		closed: make(chan struct{}),
	}, nil
}

func (s *sseTransport) Name() string { return protocol.TransportServerSentEvents }

// Read returns the data of the next event: its data lines joined by "\n",
// as an EventSource gives it. Comment lines (":") and the other fields
// (event, id, retry) are skipped; an event without data is not one.
func (s *sseTransport) Read() ([]byte, error) {
	s.ev = s.ev[:0]
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			if hasData {
				return s.ev, nil
			}
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value := line, []byte(nil)
		for i, b := range line {
			if b == ':' {
				field, value = line[:i], line[i+1:]
				if len(value) > 0 && value[0] == ' ' {
					value = value[1:]
				}
				break
			}
		}
		if string(field) != "data" {
			continue
		}
		if hasData {
			s.ev = append(s.ev, '\n')
		}
		if len(s.ev)+len(value) > s.limit {
			return nil, readLimitError(fmt.Sprintf("an event exceeded the read limit of %d bytes", s.limit), nil)
		}
		s.ev = append(s.ev, value...)
		hasData = true
	}
}

// readLine returns the next line without its "\n" or "\r\n". The slice is
// valid until the next call.
func (s *sseTransport) readLine() ([]byte, error) {
	s.line = s.line[:0]
	for {
		chunk, err := s.rd.ReadSlice('\n')
		if err == nil {
			line := chunk
			if len(s.line) > 0 {
				s.line = append(s.line, chunk...)
				line = s.line
			}
			line = line[:len(line)-1]
			if n := len(line); n > 0 && line[n-1] == '\r' {
				line = line[:n-1]
			}
			return line, nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			if len(s.line)+len(chunk) > s.limit {
				return nil, readLimitError(fmt.Sprintf("a Server-Sent Events line exceeded the read limit of %d bytes", s.limit), nil)
			}
			s.line = append(s.line, chunk...)
			continue
		}
		return nil, s.readErr(err)
	}
}

func (s *sseTransport) readErr(err error) error {
	select {
	case <-s.closed:
		return errTransportClosed
	default:
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the server ended the Server-Sent Events stream")
	}
	return fmt.Errorf("Server-Sent Events read failed: %w", err)
}

// Write posts p; see httpSender.send for the status handling.
func (s *sseTransport) Write(ctx context.Context, p []byte) error {
	select {
	case <-s.closed:
		return errTransportClosed
	default:
	}
	return s.send.send(ctx, p)
}

// Close ends the stream. There is no DELETE for this transport: closing
// the stream is how the client leaves.
func (s *sseTransport) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.cancel()
		_ = s.body.Close()
	})
	return nil
}
