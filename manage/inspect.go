package manage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/internal/textsafe"
	"github.com/sigr-dev/sigr/protocol"
)

// Inspect names a service whose emulator extensions (the live state of
// its hubs and the live trace) are read, and the access key that signs
// the requests: sigr's emulator serves them, Azure SignalR Service does
// not. Requests carry REST API tokens (HS256, aud the request URL without
// its query).
type Inspect struct {
	// Endpoint is the service's base URL, e.g. http://127.0.0.1:8888.
	Endpoint string
	// AccessKey signs the tokens.
	AccessKey string
	// HTTPClient sends the requests. Default: a client with a 10 s timeout
	// for Hubs and HubState, and one without a timeout for Trace, whose
	// stream ends with its context.
	HTTPClient *http.Client
}

// ErrTraceEnded is Trace's error when the service ends the stream: it
// closed or restarted.
var ErrTraceEnded = errors.New("trace: the service ended the stream (it stopped or restarted)")

// maxTraceLine bounds one line of the trace stream.
const maxTraceLine = 1 << 20

// ExtensionError is a non-2xx answer from an emulator extension.
type ExtensionError struct {
	Op     string // e.g. "hub state"
	URL    string // without query
	Status int
	Body   string // at most 4 KiB, as received
}

// NotEmulator reports whether the answer says the server has no such
// endpoint: it is not sigr's emulator. Azure SignalR Service answers 404.
func (e *ExtensionError) NotEmulator() bool { return e.Status == http.StatusNotFound }

// Error says what failed and what to try.
func (e *ExtensionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: GET %s answered %d %s", e.Op, e.URL, e.Status, http.StatusText(e.Status))
	if msg := clip(e.Body, 300); msg != "" {
		fmt.Fprintf(&b, ": %q", msg)
	}
	switch {
	case e.NotEmulator():
		b.WriteString("; the server does not have sigr's emulator extensions (Azure SignalR Service has none)")
	case e.Status == http.StatusUnauthorized:
		b.WriteString("; the access key is not the service's")
	}
	return b.String()
}

// Hubs returns every hub the service holds, with how many connections,
// users and groups each has.
func Hubs(ctx context.Context, in Inspect) ([]protocol.HubSummary, error) {
	var l protocol.HubList
	if err := in.getJSON(ctx, "hubs", protocol.PathHubs, &l); err != nil {
		return nil, err
	}
	return l.Hubs, nil
}

// HubState returns the live state of hub: its connections, users and
// groups. A hub the service does not hold comes back empty.
func HubState(ctx context.Context, in Inspect, hub string) (protocol.HubState, error) {
	if !protocol.ValidHubName(hub) {
		return protocol.HubState{}, fmt.Errorf("hub state: invalid hub name %q", textsafe.Clip(hub, 140))
	}
	var st protocol.HubState
	err := in.getJSON(ctx, "hub state", protocol.PathHubs+"/"+url.PathEscape(hub), &st)
	return st, err
}

// Trace streams the service's live trace, only hub's events unless hub is
// "", and calls fn with each event in order until ctx ends (it returns
// ctx.Err()), fn returns an error (it returns that), or the stream ends
// (ErrTraceEnded). A `dropped` event says how many events the service
// skipped there because this reader fell behind.
func Trace(ctx context.Context, in Inspect, hub string, fn func(protocol.TraceEvent) error) error {
	if hub != "" && !protocol.ValidHubName(hub) {
		return fmt.Errorf("trace: invalid hub name %q", textsafe.Clip(hub, 140))
	}
	var q url.Values
	if hub != "" {
		q = url.Values{"hub": {hub}}
	}
	resp, err := in.get(ctx, "trace", protocol.PathTrace, q, streamHTTP)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if mt := resp.Header.Get("Content-Type"); !strings.HasPrefix(mt, "text/event-stream") {
		return fmt.Errorf("trace: the answer is %q, not an event stream; is %s sigr's emulator?", textsafe.Clip(mt, 80), textsafe.RedactURL(in.Endpoint))
	}
	err = readTrace(resp.Body, fn)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// readTrace parses Server-Sent Events: `data:` fields joined until a
// blank line, each a trace event line; comments and other fields are
// skipped.
func readTrace(r io.Reader, fn func(protocol.TraceEvent) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var data []byte
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxTraceLine {
			return fmt.Errorf("trace: a line of the stream exceeds %d bytes", maxTraceLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return ErrTraceEnded
			}
			return fmt.Errorf("trace: reading the stream: %w", err)
		}
		l := bytes.TrimRight(line, "\r\n")
		line = line[:0]
		switch {
		case len(l) == 0:
			if len(data) == 0 {
				continue
			}
			var e protocol.TraceEvent
			if err := json.Unmarshal(data, &e); err != nil {
				return fmt.Errorf("trace: an event is not a trace event line: %v", err)
			}
			data = data[:0]
			if err := fn(e); err != nil {
				return err
			}
		case l[0] == ':':
		case bytes.HasPrefix(l, []byte("data:")):
			v := bytes.TrimPrefix(l[5:], []byte(" "))
			if len(data) > 0 {
				data = append(data, '\n')
			}
			if len(data)+len(v) > maxTraceLine {
				return fmt.Errorf("trace: an event exceeds %d bytes", maxTraceLine)
			}
			data = append(data, v...)
		}
	}
}

var (
	inspectHTTP = &http.Client{Timeout: 10 * time.Second}
	streamHTTP  = &http.Client{}
)

func (in Inspect) getJSON(ctx context.Context, op, path string, v any) error {
	resp, err := in.get(ctx, op, path, nil, inspectHTTP)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s: reading the answer: %w", op, textsafe.WithoutURL(err))
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: the answer is not the emulator's JSON: %v", op, err)
	}
	return nil
}

// get sends one signed GET and returns a 2xx answer; any other is an
// *ExtensionError.
func (in Inspect) get(ctx context.Context, op, path string, q url.Values, def *http.Client) (*http.Response, error) {
	base := strings.TrimRight(strings.TrimSpace(in.Endpoint), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: endpoint %q is not an absolute http(s) URL like http://127.0.0.1:8888", op, textsafe.RedactURL(base))
	}
	full := base + path
	if len(q) > 0 {
		full += "?" + q.Encode()
	}
	tok, err := MintRESTToken(in.AccessKey, full, 5*time.Minute)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, full, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: building the request: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	hc := in.HTTPClient
	if hc == nil {
		hc = def
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: GET %s failed: %w; check that the service is running and the URL", op, base+path, textsafe.WithoutURL(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		data, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		return nil, &ExtensionError{Op: op, URL: base + path, Status: resp.StatusCode, Body: string(data)}
	}
	return resp, nil
}
