package tui

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

// invokeTimeout bounds the wait for a completion of an invocation made
// from the screen, as `sigr invoke` does by default. A stream has no bound:
// it runs until its completion, its connection or the screen ends.
const invokeTimeout = 30 * time.Second

// maxInvocations bounds the invocations remembered for naming the rows of
// their answers; older answers show as plain completions.
const maxInvocations = 1024

// invocation is a hub method call made from the screen: what the rows of
// its answer (completion, stream items, an error of sigr's own) name.
type invocation struct {
	conn   int32 // roster index of the connection it went over
	id     string
	target string
	args   json.RawMessage
	stream bool
	sent   time.Time
	rec    uint64 // its record in the sent log
}

// call is how the detail view names it: target(args).
func (iv *invocation) call() string {
	return sanitize(iv.target) + "(" + sanitize(compactJSON(trimBrackets(iv.args), 200)) + ")"
}

func trimBrackets(args json.RawMessage) json.RawMessage {
	if n := len(args); n >= 2 && args[0] == '[' && args[n-1] == ']' {
		return args[1 : n-1]
	}
	return args
}

type invKey struct {
	conn int32
	id   string
}

// invocations remembers the recent invocations by connection and id, the
// pair their answers carry.
type invocations struct {
	byKey map[invKey]*invocation
	order []invKey // oldest first
}

func newInvocations() *invocations { return &invocations{byKey: map[invKey]*invocation{}} }

func (is *invocations) add(iv *invocation) {
	k := invKey{iv.conn, iv.id}
	if _, dup := is.byKey[k]; !dup {
		is.order = append(is.order, k)
	}
	is.byKey[k] = iv
	if len(is.order) > maxInvocations {
		delete(is.byKey, is.order[0])
		is.order = is.order[1:]
	}
}

// of returns the invocation whose answer e is, or nil: a row of sigr's own
// carries it, a completion or stream item is matched by its invocation id
// on the connection that received it.
func (is *invocations) of(e *entry) *invocation {
	if e.note != nil {
		return e.note
	}
	if e.failed || e.msg.InvocationID == "" || (e.msg.Type != protocol.TypeCompletion && e.msg.Type != protocol.TypeStreamItem) {
		return nil
	}
	return is.byKey[invKey{e.conn, e.msg.InvocationID}]
}

// invokeStartedMsg reports that an invocation was written, or why not;
// rec is its record in the sent log.
type invokeStartedMsg struct {
	rec  uint64
	call Call
	p    Pending
	err  error
}

// invokeDoneMsg reports how an invocation ended.
type invokeDoneMsg struct {
	conn string
	id   string
	err  error
}

// invoke calls c's hub method over the selected connection.
func (m *Model) invoke(c Call) tea.Cmd {
	inv, ok := m.cfg.Session.(Invoker)
	if !ok {
		m.setFlash("invoking hub methods is not available in this session", true)
		return nil
	}
	r := m.sent.add(sentRecord{kind: sentInvoke, time: m.cfg.Now(), as: c.Conn, target: c.Target, text: string(c.Args), stream: c.Stream})
	ctx, id := m.cfg.Context, r.id
	return func() tea.Msg {
		p, err := inv.Invoke(ctx, c)
		return invokeStartedMsg{rec: id, call: c, p: p, err: err}
	}
}

// invokeStarted remembers the invocation, so that its answer's rows name
// it, and waits for its end; a failure to write it becomes a row at once.
func (m *Model) invokeStarted(msg invokeStartedMsg) tea.Cmd {
	ci, ok := m.roster.index[msg.call.Conn]
	if !ok {
		m.setFlash("invoke "+sanitize(msg.call.Target)+": the connection has gone", true)
		return nil
	}
	now := m.cfg.Now()
	iv := &invocation{conn: int32(ci), id: msg.p.ID, target: msg.call.Target, args: msg.call.Args, stream: msg.call.Stream, sent: now, rec: msg.rec}
	if r := m.sent.byID(msg.rec); r != nil {
		r.invID = msg.p.ID
		if msg.err != nil {
			r.pending, r.err = false, "not sent: "+msg.err.Error()
		}
	}
	if msg.err != nil {
		m.note(iv, now, "not sent: "+msg.err.Error())
		m.setFlash("invoke "+sanitize(msg.call.Target)+" failed: "+sanitize(msg.err.Error()), true)
		return nil
	}
	m.calls.add(iv)
	m.composer.invoked(msg.call)
	what := "invoked "
	if msg.call.Stream {
		what = "streaming "
	}
	m.setFlash(what+sanitize(msg.call.Target)+" as "+sanitize(msg.call.Conn)+" (invocation "+sanitize(msg.p.ID)+")", false)
	ctx, wait, stream := m.cfg.Context, msg.p.Wait, msg.call.Stream
	conn, id := msg.call.Conn, msg.p.ID
	return func() tea.Msg {
		wctx, cancel := ctx, context.CancelFunc(func() {})
		if !stream {
			wctx, cancel = context.WithTimeout(ctx, invokeTimeout)
		}
		defer cancel()
		return invokeDoneMsg{conn: conn, id: id, err: wait(wctx)}
	}
}

// invokeDone adds a row when an invocation ended without a completion of
// its own to show: the row names it and says why.
func (m *Model) invokeDone(msg invokeDoneMsg) {
	var he *client.HubError
	if msg.err == nil || errors.As(msg.err, &he) || errors.Is(msg.err, context.Canceled) {
		return // the completion's own row tells, or the screen is closing
	}
	ci, ok := m.roster.index[msg.conn]
	if !ok {
		return
	}
	iv := m.calls.byKey[invKey{int32(ci), msg.id}]
	if iv == nil {
		return
	}
	text := msg.err.Error()
	if errors.Is(msg.err, context.DeadlineExceeded) {
		text = "no completion within " + invokeTimeout.String() + ": " + m.silenceCause(m.roster.conns[ci])
	}
	if r := m.sent.byID(iv.rec); r != nil && r.kind == sentInvoke {
		r.pending, r.err = false, text
	}
	m.note(iv, m.cfg.Now(), text)
}

// silenceCause names the likely reason an invocation got no answer, which
// depends on what is at the other end.
func (m *Model) silenceCause(c *conn) string {
	if c.service {
		return "Azure SignalR Service in serverless mode drops client invocations unless the hub has an upstream (a function app's /runtime/webhooks/signalr)"
	}
	return "the hub may have no such method, or it is still running"
}

// note adds a row of sigr's own about iv: why it has no answer.
func (m *Model) note(iv *invocation, at time.Time, text string) {
	e := entry{time: at, conn: iv.conn, delivery: noDelivery, note: iv}
	e.msg = protocol.Message{Type: protocol.TypeCompletion, Fields: protocol.FieldError, InvocationID: iv.id, Error: text}
	m.stream.push(e)
	m.stream.settle()
}
