package tui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sigr-dev/sigr/manage"
)

// maxSent bounds the sends, invokes and group actions the sent log keeps.
const maxSent = 1024

// sentKind is what a sent record is.
type sentKind uint8

const (
	sentSend sentKind = iota
	sentInvoke
	sentGroup
)

// sentRecord is one send, invoke or group action made from the screen,
// and what became of it: the sent log's row, the chat's echo of an own
// message, and the routing matrix's row for a send that reached nobody.
type sentRecord struct {
	id     uint64
	kind   sentKind
	time   time.Time
	as     string // the sender; for an invoke, the connection it went over
	to     Destination
	name   string // the user, group or connection of to
	target string // the client method, the hub method, or the group
	text   string // chat text, arguments as JSON, or the group action
	chat   bool   // a chat-sample body: the chat view echoes it
	stream bool   // a stream invocation
	// chatLine is the id of a chat body's echo in the chat view.
	chatLine uint64

	pending bool
	// status is the HTTP status of a send or group action; 0 before the
	// answer, or when none came.
	status int
	// delivered is how many connections the service wrote the message to
	// (applied the group action to), as sigr's emulator reports it; -1
	// when the server does not say, as Azure does not.
	delivered int
	reason    string // why none, when delivered is 0
	// check is what the REST API's existence checks said when the
	// server did not report deliveries; nobody marks that they found
	// nobody there to get it.
	check  string
	nobody bool
	err    string // the send or the invocation failed
	result string // an invocation's result, as compact JSON
	invID  string // an invocation's id
}

// reachedNobody reports whether the service said the message reached no
// connection, or its existence checks found nobody to get it.
func (r *sentRecord) reachedNobody() bool {
	return r.kind == sentSend && !r.pending && r.err == "" && (r.delivered == 0 || r.nobody)
}

// applyCheck records what the existence checks said of a send whose
// answer did not say where it went.
func (r *sentRecord) applyCheck(txt string) {
	r.check = txt
	// CheckSend says "so the message reached nobody" when nobody was
	// there to get it.
	r.nobody = strings.Contains(txt, "reached nobody")
}

// dest is where the record went, as the chat names destinations.
func (r *sentRecord) dest() string {
	if r.kind == sentInvoke {
		return "hub method " + r.target
	}
	return destText(r.to, r.name)
}

// outcome says in words what became of the record, without the reason.
func (r *sentRecord) outcome() string {
	switch {
	case r.pending && r.kind == sentInvoke:
		return "waiting for the completion"
	case r.pending:
		return "sending…"
	case r.kind == sentInvoke && r.err != "":
		return "error"
	case r.kind == sentInvoke:
		if r.stream && r.result == "" {
			return "end of stream"
		}
		if r.result == "" {
			return "completion, no result"
		}
		return "completion " + r.result
	case r.err != "":
		if r.status != 0 {
			return statusText(r.status) + ", failed"
		}
		return "failed"
	}
	s := statusText(r.status)
	switch {
	case r.delivered < 0 && r.kind == sentGroup:
		return s
	case r.nobody:
		return s + " · not reported; nobody there to get it"
	case r.delivered < 0:
		return s + " · delivery not reported"
	case r.kind == sentGroup:
		return s + " · applied to " + connections(r.delivered)
	}
	return s + " · delivered to " + connections(r.delivered)
}

// why is the reason to show under the outcome: the error, or why the
// message reached nobody.
func (r *sentRecord) why() string {
	if r.err != "" {
		return r.err
	}
	if r.check != "" {
		return r.check
	}
	if r.delivered == 0 {
		if r.reason != "" {
			return r.reason
		}
		if r.kind == sentSend {
			return "the service wrote it to no connection and gave no reason"
		}
	}
	return ""
}

func connections(n int) string {
	if n == 1 {
		return "1 connection"
	}
	return strconv.Itoa(n) + " connections"
}

func statusText(code int) string {
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

// applyOutcome records the server's answer: its status and, when it says,
// to how many connections the message went and why none.
func (r *sentRecord) applyOutcome(o manage.Outcome, err error) {
	r.pending = false
	r.status = o.Status
	r.delivered, r.reason = -1, ""
	n, known := o.Delivered()
	why := o.Undelivered
	if r.kind == sentGroup {
		n, known = o.Applied()
		why = o.Unapplied
	}
	if known {
		r.delivered = n
		if n == 0 {
			r.reason = why()
		}
	}
	if err != nil {
		r.err = err.Error()
	}
}

// destText is how the chat and the sent log name a destination: everyone,
// a user id, #group or conn:ID.
func destText(to Destination, name string) string {
	switch to {
	case ToUser:
		return name
	case ToGroup:
		return "#" + name
	case ToConnection:
		return "conn:" + name
	}
	return "everyone"
}

// routeText is a destination in the format of the emulator's route
// header: broadcast, user:ID, group:NAME or connection:ID.
func routeText(to Destination, name string) string {
	switch to {
	case ToUser:
		return "user:" + name
	case ToGroup:
		return "group:" + name
	case ToConnection:
		return "connection:" + name
	}
	return "broadcast"
}

// destOfRoute is a route header as destText names it.
func destOfRoute(route string) string {
	kind, name, _ := strings.Cut(route, ":")
	switch kind {
	case "broadcast":
		return "everyone"
	case "user":
		return name
	case "group":
		return "#" + name
	case "connection":
		return "conn:" + name
	}
	return route
}

// sentLog is every send, invoke and group action made from the screen,
// the newest last, with its selection.
type sentLog struct {
	com     *common
	records idRing[sentRecord]
	nav     listNav
}

func newSentLog(com *common) *sentLog {
	return &sentLog{com: com, records: newIDRing[sentRecord](maxSent), nav: newListNav()}
}

// add records r as pending and returns it as kept.
func (l *sentLog) add(r sentRecord) *sentRecord {
	r.pending, r.delivered = true, -1
	r.id = l.records.end()
	l.records.push(r)
	return l.records.byID(r.id)
}

func (l *sentLog) byID(id uint64) *sentRecord { return l.records.byID(id) }

// selectedRecord is the record under the cursor, or nil.
func (l *sentLog) selectedRecord() *sentRecord {
	id, ok := l.nav.selected(l.records.first(), l.records.end())
	if !ok {
		return nil
	}
	return l.records.byID(id)
}
