package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"

	"github.com/coder/websocket"

	"github.com/sigr-dev/sigr/protocol"
)

// wsTransport is the WebSocket transport: one hub protocol payload per
// text message.
type wsTransport struct {
	conn *websocket.Conn
	raw  *timedConn // the upgraded TCP (or TLS) connection under conn
	url  string     // redacted, for errors
	once sync.Once
}

// closeHandshakeWait bounds how long Close waits for the server to answer
// the WebSocket close frame before dropping the connection. The official
// JS client does not wait at all; a short wait lets a healthy server see a
// clean close, and a server or proxy that never answers costs this much,
// not coder/websocket's 5 s.
const closeHandshakeWait = 250 * time.Millisecond

func dialWebSocket(ctx context.Context, c *Conn, t dialTarget) (transport, error) {
	u, err := url.Parse(t.connectURL)
	if err != nil {
		return nil, &Error{Op: "connect", Msg: "invalid URL", Permanent: true, Err: err}
	}
	switch u.Scheme {
	case "http":
		u.Scheme = "ws"
	case "https":
		u.Scheme = "wss"
	}
	h := http.Header{}
	h.Set("User-Agent", userAgent)
	if t.token != "" && origin(t.base) == t.tokenOrigin {
		// Go is not a browser: the token travels in a header, never in the
		// query string where proxies log it.
		h.Set("Authorization", "Bearer "+t.token)
	}
	shown := textsafe.RedactURL(u.String())
	hc := *c.wsHTTPClient()
	up := &upgradeCatcher{rt: hc.Transport, clk: c.clk}
	if up.rt == nil {
		up.rt = http.DefaultTransport
	}
	hc.Transport = up
	ws, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPClient: &hc,
		HTTPHeader: h,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		e := &Error{Op: "connect", URL: shown, Err: textsafe.WithoutURL(err)}
		if resp != nil {
			e.Status = resp.StatusCode
			switch resp.StatusCode {
			case http.StatusNotFound:
				e.Msg = "HTTP 404: the connection is not on the server (it expired, or a proxy or load balancer without sticky sessions sent the request elsewhere)"
				e.Err = nil
			case http.StatusUnauthorized, http.StatusForbidden:
				e.Msg = fmt.Sprintf("HTTP %d: the service refused the access token (expired, wrong audience, or signed with another key)", resp.StatusCode)
				e.Err = nil
			default:
				e.Msg = "WebSocket failed to connect"
			}
		} else {
			e.Msg = "WebSocket failed to connect"
		}
		return nil, e
	}
	limit := c.opts.ReadLimit
	if limit < 0 {
		limit = -1
	}
	ws.SetReadLimit(limit)
	if up.conn == nil {
		ws.CloseNow()
		return nil, &Error{Op: "connect", URL: shown, Msg: "WebSocket failed to connect: the upgraded connection is not readable and writable"}
	}
	return &wsTransport{conn: ws, raw: up.conn, url: shown}, nil
}

// upgradeCatcher keeps the connection a 101 answer hands over (net/http
// makes it the response body), which coder/websocket hides: Close needs it
// to drop a connection whose server does not answer the close handshake,
// and the reader takes the time of each read from it (timedConn). It is
// used for one dial at a time.
type upgradeCatcher struct {
	rt   http.RoundTripper
	clk  clock
	conn *timedConn
}

func (u *upgradeCatcher) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := u.rt.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusSwitchingProtocols {
		if rwc, ok := resp.Body.(io.ReadWriteCloser); ok {
			u.conn = &timedConn{ReadWriteCloser: rwc, clk: u.clk, base: time.Now()}
			resp.Body = u.conn
		}
	}
	return resp, err
}

// timedConn notes when each read from the socket returned data. A
// WebSocket reader reads the socket a buffer at a time, often a few
// dozen messages at once; taking the time once per read rather than once
// per message costs a clock read per buffer, and gives each message the
// time its last bytes reached the process.
type timedConn struct {
	io.ReadWriteCloser
	clk  clock
	base time.Time
	at   atomic.Int64 // when the last read returned data: ns since base on clk
}

func (t *timedConn) Read(p []byte) (int, error) {
	n, err := t.ReadWriteCloser.Read(p)
	if n > 0 {
		t.at.Store(int64(t.clk.since(t.base)))
	}
	return n, err
}

// since returns the time of the last read that returned data, as time
// since epoch on the same clock.
func (t *timedConn) since(epoch time.Time) time.Duration {
	return time.Duration(t.at.Load()) + t.base.Sub(epoch)
}

// wsHTTPClient returns the HTTP client for the upgrade. coder/websocket
// refuses a client with a Timeout (it would cut the long-lived
// connection), so the timeout is dropped and the dial context bounds the
// upgrade instead.
func (c *Conn) wsHTTPClient() *http.Client {
	hc := c.opts.HTTPClient
	if hc.Timeout == 0 {
		return hc
	}
	cp := *hc
	cp.Timeout = 0
	return &cp
}

func (w *wsTransport) Name() string { return protocol.TransportWebSockets }

// Read returns the next message in memory of its own. The session reads
// the handshake response with it, and then messages with readInto.
func (w *wsTransport) Read() ([]byte, error) {
	p, _, err := w.readInto(nil)
	return p, err
}

// readInto reads the next message into the free capacity of dst, where
// the reader keeps payloads until the dispatcher has copied their records
// (readRing), and reports true; a message that does not fit is returned
// in memory of its own, which nothing writes again, and false.
func (w *wsTransport) readInto(dst []byte) ([]byte, bool, error) {
	_, r, err := w.conn.Reader(context.Background())
	if err != nil {
		return nil, false, w.readErr(err)
	}
	free := dst[len(dst):cap(dst)]
	n := 0
	for {
		m, err := r.Read(free[n:])
		n += m
		if err == io.EOF {
			return free[:n:n], true, nil
		}
		if err != nil {
			return nil, false, w.readErr(err)
		}
		if n == len(free) {
			p, err := w.readRest(r, free[:n])
			return p, false, err
		}
	}
}

// received returns when the last message read arrived, as time since
// epoch on the Conn's clock (see timedConn).
func (w *wsTransport) received(epoch time.Time) time.Duration { return w.raw.since(epoch) }

// readRest finishes a message that did not fit, whose first bytes are
// head, in memory of its own: read there directly, it needs no second
// copy, and nothing keeps the largest message for the transport's life.
func (w *wsTransport) readRest(r io.Reader, head []byte) ([]byte, error) {
	b := bytes.NewBuffer(append(make([]byte, 0, 2*len(head)), head...))
	if _, err := b.ReadFrom(r); err != nil {
		return nil, w.readErr(err)
	}
	return b.Bytes(), nil
}

// readErr explains why the socket stopped, in the official client's words
// where it has them.
func (w *wsTransport) readErr(err error) error {
	if code := websocket.CloseStatus(err); code != -1 {
		reason := "no reason given"
		var ce websocket.CloseError
		if errors.As(err, &ce) && ce.Reason != "" {
			reason = textsafe.Line(ce.Reason)
		}
		return fmt.Errorf("WebSocket closed with status code: %d (%s).", int(code), reason)
	}
	if strings.Contains(err.Error(), "read limited at") {
		return readLimitError("a message exceeded the read limit", err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the server dropped the connection without a WebSocket close")
	}
	if errors.Is(err, syscall.ECONNRESET) {
		return errors.New("the server dropped the connection without a WebSocket close (connection reset)")
	}
	if errors.Is(err, net.ErrClosed) {
		return errors.New("the connection was closed")
	}
	return fmt.Errorf("WebSocket read failed: %w", err)
}

// Write sends p in a text message, or a binary one for a MessagePack
// record, as the official clients do (the handshake is text in both).
func (w *wsTransport) Write(ctx context.Context, p []byte) error {
	typ := websocket.MessageText
	if !isTextRecord(p) {
		typ = websocket.MessageBinary
	}
	return w.conn.Write(ctx, typ, p)
}

// Close closes the socket at once rather than waiting for the server's
// close frame (up to 5 s in coder/websocket), for the reason the official
// client gives: a dead network can take that long to notice.
func (w *wsTransport) Close() error {
	w.once.Do(func() {
		_ = w.conn.CloseNow()
	})
	return nil
}

// CloseGracefully sends a normal WebSocket close and waits for the
// server's answer for at most closeHandshakeWait, then drops the
// connection. It is used only for a user's Close on a healthy connection.
func (w *wsTransport) CloseGracefully() error {
	w.once.Do(func() {
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = w.conn.Close(websocket.StatusNormalClosure, "")
		}()
		t := time.NewTimer(closeHandshakeWait)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			// coder/websocket would wait 5 s for the answer, with no way to
			// cut it short; closing the connection under it ends that wait
			// (and the reader's) with an error at once.
			if w.raw != nil {
				_ = w.raw.Close()
			}
			<-done
		}
	})
	return nil
}
