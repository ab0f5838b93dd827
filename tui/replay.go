package tui

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// maxEventLine bounds one event line a replay reads: the largest message
// sigr receives, written as JSON with its raw record beside it.
const maxEventLine = 64 << 20

// replayConn names the connection of lines that name none (`sigr decode`
// of one capture, `sigr watch` as an anonymous user).
const replayConn = "capture"

// ReadEventLines reads event lines (docs/events.md: what `sigr watch` and
// `sigr decode` print and w saves) as the screen's events, in file order,
// with the connections in the order they first appear. Handshake lines
// carry nothing the screen shows and are skipped; a line that is not an
// event line is an error naming its number.
func ReadEventLines(r io.Reader) ([]ConnSpec, []Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxEventLine)
	var specs []ConnSpec
	var evs []Event
	seen := map[string]bool{}
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		ev, ok, err := parseEventLine(line)
		if err != nil {
			return nil, nil, fmt.Errorf("replay: line %d: %w", n, err)
		}
		if !ok {
			continue
		}
		if l := ev.Conn.Label(); !seen[l] {
			seen[l] = true
			specs = append(specs, ev.Conn)
		}
		evs = append(evs, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("replay: %w", err)
	}
	return specs, evs, nil
}

// eventLine is the members of an event line that are not the message's own.
type eventLine struct {
	Time         time.Time `json:"time"`
	Event        string    `json:"event"`
	Connection   string    `json:"connection"`
	Hub          string    `json:"hub"`
	State        string    `json:"state"`
	Transport    string    `json:"transport"`
	ConnectionID string    `json:"connectionId"`
	Attempt      int       `json:"attempt"`
	RetryInMs    int64     `json:"retryInMs"`
	Resumed      bool      `json:"resumed"`
	Error        *string   `json:"error"`
	Raw          *string   `json:"raw"`
	RawBase64    string    `json:"rawBase64"`
}

// parseEventLine reads one line; ok is false for a line the screen does
// not show.
func parseEventLine(line []byte) (Event, bool, error) {
	var l eventLine
	if err := json.Unmarshal(line, &l); err != nil {
		return Event{}, false, fmt.Errorf("not an event line: %w", err)
	}
	if l.Event == "" || l.Time.IsZero() {
		return Event{}, false, errors.New("not an event line: no time or event (open what sigr watch, sigr decode or w wrote)")
	}
	conn := ConnSpec{Name: l.Connection, Hub: l.Hub, User: userOfLabel(l.Connection)}
	if conn.Name == "" {
		conn.Name = replayConn
	}
	ev := Event{Conn: conn, Event: client.Event{Time: l.Time, Hub: l.Hub}}
	var raw []byte
	switch {
	case l.Raw != nil:
		raw = []byte(*l.Raw)
	case l.RawBase64 != "":
		b, err := base64.StdEncoding.DecodeString(l.RawBase64)
		if err != nil {
			return Event{}, false, fmt.Errorf("rawBase64: %w", err)
		}
		raw = b
	}
	switch l.Event {
	case "handshakeRequest", "handshakeResponse":
		return Event{}, false, nil
	case "state":
		ev.Kind = client.EventState
		st, ok := stateNamed(l.State)
		if !ok {
			return Event{}, false, fmt.Errorf("state %q is not one of connecting, connected, reconnecting, disconnected", l.State)
		}
		ev.State, ev.Transport, ev.ConnectionID, ev.Attempt, ev.Resumed = st, l.Transport, l.ConnectionID, l.Attempt, l.Resumed
		ev.RetryIn = time.Duration(l.RetryInMs) * time.Millisecond
		if l.Error != nil && *l.Error != "" {
			ev.Err = errors.New(*l.Error)
		}
		return ev, true, nil
	case "error":
		ev.Kind, ev.Raw = client.EventError, raw
		text := "error"
		if l.Error != nil {
			text = *l.Error
		}
		ev.Err = errors.New(text)
		return ev, true, nil
	}
	msg, err := messageOf(line, raw, l.Event)
	if err != nil {
		return Event{}, false, err
	}
	ev.Kind, ev.Message, ev.Raw = client.EventMessage, msg, raw
	return ev, true, nil
}

// messageOf is the hub message of a line: its raw record parsed again when
// the line kept it, else the line itself read as the message, whose fields
// it carries under their protocol names, with the type its event names.
func messageOf(line, raw []byte, event string) (protocol.Message, error) {
	if raw != nil {
		if m, err := protocol.ParseMessage(raw, protocol.Lenient); err == nil {
			return m, nil
		}
	}
	t, ok := typeNamed(event)
	if !ok {
		return protocol.Message{}, fmt.Errorf("event %q is not a hub message, state or error", event)
	}
	// The line's own members (time, event, connection, hub) are unknown to
	// a hub message and ignored; its type goes first.
	rec := append([]byte(`{"type":`+fmt.Sprint(int(t))+","), line[1:]...)
	m, err := protocol.ParseMessage(rec, protocol.Lenient)
	if err != nil {
		return protocol.Message{}, fmt.Errorf("%s: %w", event, err)
	}
	return m, nil
}

// userOfLabel is the user a connection's label names (alice of
// alice#2@chat), so that a replay infers routes as the live screen did;
// "" for anon.
func userOfLabel(label string) string {
	u, _, _ := strings.Cut(label, "@")
	u, _, _ = strings.Cut(u, "#")
	if u == DefaultSender {
		return ""
	}
	return u
}

func typeNamed(event string) (protocol.MessageType, bool) {
	for t := protocol.TypeInvocation; t <= protocol.TypeSequence; t++ {
		if t.String() == event {
			return t, true
		}
	}
	return 0, false
}

func stateNamed(s string) (client.State, bool) {
	for _, st := range []client.State{client.Disconnected, client.Connecting, client.Connected, client.Reconnecting} {
		if st.String() == s {
			return st, true
		}
	}
	return 0, false
}
