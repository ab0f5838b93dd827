package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
)

// httpSender posts payloads for the two HTTP transports (Server-Sent
// Events and long polling), which carry client-to-server data as
// POST [endpoint-base]?id=<token>.
type httpSender struct {
	hc     *http.Client
	url    string // the connect URL, with id=
	shown  string // redacted, for errors
	header http.Header

	// mu keeps one POST in flight, as the official client's send queue
	// does: the server answers a second concurrent POST with 409.
	mu sync409
}

// sync409 is a mutex that a waiting sender can give up on when its
// context ends.
type sync409 chan struct{}

func (m sync409) lock(ctx context.Context) error {
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m sync409) unlock() { <-m }

// transportHeader returns the headers of every transport request: the
// user agent, and the bearer token when the endpoint is the origin the
// token was issued for. sigr is not a browser, so the token always
// travels in the Authorization header, as the .NET client sends it, and
// never in an access_token query that proxies log.
func transportHeader(t dialTarget) http.Header {
	h := http.Header{}
	h.Set("User-Agent", userAgent)
	if t.token != "" && origin(t.base) == t.tokenOrigin {
		h.Set("Authorization", "Bearer "+t.token)
	}
	return h
}

func newHTTPSender(hc *http.Client, t dialTarget) *httpSender {
	return &httpSender{
		hc:     hc,
		url:    t.connectURL,
		shown:  textsafe.RedactURL(t.connectURL),
		header: transportHeader(t),
		mu:     make(sync409, 1),
	}
}

// conflictRetry bounds the wait between retries of a send the server
// refused with 409 (another send still in flight on its side, e.g. one
// this client gave up on).
const (
	conflictRetryMin = 10 * time.Millisecond
	conflictRetryMax = 250 * time.Millisecond
)

// send posts p. 200 is success; 409 means another send is still in
// flight, so it waits and retries until ctx ends; 404 means the
// connection is gone; anything else is an error that says what the
// server answered.
func (h *httpSender) send(ctx context.Context, p []byte) error {
	if err := h.mu.lock(ctx); err != nil {
		return err
	}
	defer h.mu.unlock()
	wait := conflictRetryMin
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, bytes.NewReader(p))
		if err != nil {
			return fmt.Errorf("send to %s: %w", h.shown, err)
		}
		req.Header = h.header.Clone()
		if isTextRecord(p) {
			req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
		} else {
			req.Header.Set("Content-Type", "application/octet-stream")
		}
		resp, err := h.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("send to %s failed: %w", h.shown, textsafe.WithoutURL(err))
		}
		body := readSnippet(resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusOK, http.StatusAccepted, http.StatusNoContent:
			return nil
		case http.StatusConflict:
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("send to %s: the server kept answering 409 (another send in flight): %w", h.shown, ctx.Err())
			}
			wait = min(wait*2, conflictRetryMax)
		case http.StatusNotFound:
			return fmt.Errorf("send to %s: HTTP 404: the connection is gone from the server (closed, or timed out)", h.shown)
		default:
			return fmt.Errorf("send to %s: HTTP %d %s%s", h.shown, resp.StatusCode, http.StatusText(resp.StatusCode), bodyHint(body))
		}
	}
}

// readSnippet reads the start of an error body for a message and drains
// a little more so the connection can be reused.
func readSnippet(r io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(r, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(r, 64<<10))
	return b
}

// statusError explains a refused transport request (SSE stream, first
// poll) in the terms of the protocol's status table.
func statusError(op, shown string, status int, body []byte) error {
	e := &Error{Op: op, URL: shown, Status: status}
	st := fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
	switch status {
	case http.StatusNotFound:
		e.Msg = st + ": the connection is not on the server (it expired, or a proxy or load balancer without sticky sessions sent the request elsewhere)"
	case http.StatusUnauthorized, http.StatusForbidden:
		e.Msg = st + ": the service refused the access token (expired, wrong audience, or signed with another key)"
	case http.StatusConflict:
		e.Msg = st + ": another request of this transport is already active for the connection"
	default: // 400 carries the server's reason, e.g. Cannot change transports mid-connection
		e.Msg = st + bodyHint(body)
	}
	return e
}

// errTransportClosed is what Read returns after Close.
var errTransportClosed = errors.New("the connection was closed")
