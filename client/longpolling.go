package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// lpTransport is the long-polling transport: the server's data comes back
// as the answers to GET polls, one poll at a time; the client's data goes
// out as POSTs; a DELETE ends the connection.
//
// Polls are made by Read itself, so the transport runs no goroutine: the
// session's reader is always either in a poll or handing its answer on.
type lpTransport struct {
	hc          *http.Client // without Timeout: pollTimeout bounds each poll
	url         string       // the connect URL, with id=
	shown       string
	header      http.Header
	pollTimeout time.Duration
	limit       int64
	send        *httpSender

	ctx    context.Context // cancelled by Close: aborts the poll in progress
	cancel context.CancelFunc

	serverEnded atomic.Bool // a 204 or 404 said the connection is over
	closeOnce   sync.Once
	closed      chan struct{}
	body        []byte
}

// lpDeleteTimeout bounds the DELETE that Close sends. Close has no
// context, and a stop must not hang on a dead network; the server drops a
// connection that stops polling on its own anyway.
const lpDeleteTimeout = 2 * time.Second

// dialLongPolling makes the first poll, which finishes setting up the
// connection on the server and comes back without data. Any status but
// 200 fails the transport.
func dialLongPolling(ctx context.Context, c *Conn, t dialTarget) (transport, error) {
	limit := c.opts.ReadLimit
	if limit < 0 {
		limit = 1<<63 - 1
	}
	tctx, cancel := context.WithCancel(context.Background())
	l := &lpTransport{
		hc:          c.wsHTTPClient(),
		url:         t.connectURL,
		shown:       textsafe.RedactURL(t.connectURL),
		header:      transportHeader(t),
		pollTimeout: c.opts.HTTPTimeout,
		limit:       limit,
		send:        newHTTPSender(c.opts.HTTPClient, t),
		ctx:         tctx,
		cancel:      cancel,
		closed:      make(chan struct{}),
	}
	pctx, pcancel := context.WithTimeout(ctx, l.pollTimeout)
	defer pcancel()
	resp, err := l.poll(pctx)
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &Error{Op: "connect", URL: l.shown, Msg: "the first long poll failed", Err: textsafe.WithoutURL(err)}
	}
	body := readSnippet(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		cancel()
		return nil, statusError("connect", l.shown, resp.StatusCode, body)
	}
	return l, nil
}

// poll sends one GET; the `_` parameter defeats caches, as the official
// client's does.
func (l *lpTransport) poll(ctx context.Context) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, l.url+"&_="+strconv.FormatInt(time.Now().UnixMilli(), 10), nil)
	if err != nil {
		return nil, err
	}
	req.Header = l.header.Clone()
	return l.hc.Do(req)
}

func (l *lpTransport) Name() string { return protocol.TransportLongPolling }

// inherentKeepAlive reports that the polls themselves keep the connection
// alive: the official clients send no pings and run no server timeout on
// long polling.
func (l *lpTransport) inherentKeepAlive() bool { return true }

// Read polls until a poll brings data. 200 with a body is data; 200 with
// none means the server's poll timed out, and a poll the client timed out
// is sent again too; 204 means the server ended the connection; 404 that
// it is gone; anything else is an error.
func (l *lpTransport) Read() ([]byte, error) {
	for {
		select {
		case <-l.closed:
			return nil, errTransportClosed
		default:
		}
		data, again, err := l.pollOnce()
		if err != nil || !again {
			return data, err
		}
	}
}

func (l *lpTransport) pollOnce() (data []byte, again bool, err error) {
	pctx, pcancel := context.WithTimeout(l.ctx, l.pollTimeout)
	defer pcancel()
	resp, err := l.poll(pctx)
	if err != nil {
		if l.ctx.Err() != nil {
			return nil, false, errTransportClosed
		}
		if pctx.Err() != nil {
			return nil, true, nil // the client's poll timeout: poll again
		}
		return nil, false, fmt.Errorf("long poll to %s failed: %w", l.shown, textsafe.WithoutURL(err))
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		l.body, err = readAllInto(l.body[:0], resp.Body, l.limit)
		if err != nil {
			if l.ctx.Err() != nil {
				return nil, false, errTransportClosed
			}
			if errors.Is(err, ErrReadLimit) {
				return nil, false, readLimitError(fmt.Sprintf("a long poll answer exceeded the read limit of %d bytes", l.limit), nil)
			}
			if pctx.Err() != nil {
				return nil, true, nil
			}
			return nil, false, fmt.Errorf("reading a long poll answer from %s failed: %w", l.shown, err)
		}
		if len(l.body) == 0 {
			return nil, true, nil
		}
		return l.body, false, nil
	case http.StatusNoContent:
		l.serverEnded.Store(true)
		return nil, false, errors.New("the server ended the connection (a long poll answered 204 No Content)")
	case http.StatusNotFound:
		l.serverEnded.Store(true)
		return nil, false, fmt.Errorf("long poll to %s: HTTP 404: the connection is gone from the server", l.shown)
	default:
		return nil, false, statusError("receive", l.shown, resp.StatusCode, readSnippet(resp.Body))
	}
}

// readAllInto reads r into dst, failing past limit bytes.
func readAllInto(dst []byte, r io.Reader, limit int64) ([]byte, error) {
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if int64(len(dst)) > limit {
			return dst, ErrReadLimit
		}
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// Write posts p; see httpSender.send for the status handling.
func (l *lpTransport) Write(ctx context.Context, p []byte) error {
	select {
	case <-l.closed:
		return errTransportClosed
	default:
	}
	return l.send.send(ctx, p)
}

// Close aborts the poll in progress, then sends DELETE, which the server
// answers with 202 and by ending the last poll with 204. It skips the
// DELETE when the server already ended the connection.
func (l *lpTransport) Close() error {
	l.closeOnce.Do(func() {
		close(l.closed)
		l.cancel()
		if l.serverEnded.Load() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), lpDeleteTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodDelete, l.url, nil)
		if err != nil {
			return
		}
		req.Header = l.header.Clone()
		resp, err := l.hc.Do(req)
		if err != nil {
			return
		}
		_ = readSnippet(resp.Body)
		resp.Body.Close()
	})
	return nil
}
