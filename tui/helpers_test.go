package tui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// teatest waits for a SIGINT for the life of the process.
		goleak.IgnoreAnyFunction("github.com/charmbracelet/x/exp/teatest/v2.NewTestModel.func2"),
		goleak.IgnoreTopFunction("os/signal.signal_recv"),
		// A text input's cursor-blink command outlives the program that
		// ran it by up to its BlinkSpeed (530 ms) and then returns; it is
		// Bubbles' goroutine, bounded, and longer than goleak's retries.
		goleak.IgnoreTopFunction("charm.land/bubbles/v2/cursor.(*Model).Blink.func1"),
	)
}

// t0 is the fixed clock of every rendering test.
var t0 = time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return t0.Add(30 * time.Second) }

func newTestModel(w, h int, cfg Config) *Model {
	cfg.URL = "http://127.0.0.1:7071/api"
	cfg.Now = fixedNow
	cfg.Location = time.UTC
	if cfg.History == 0 {
		cfg.History = 1000
	}
	m := New(cfg)
	m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	return m
}

// fakeJWT builds an unsigned token with the claims; the screen only decodes
// tokens for display.
func fakeJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	h := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	return h + "." + enc.EncodeToString(p) + ".c2ln"
}

// spec is the identity of a test connection on hub chat.
func spec(label, user string) ConnSpec { return ConnSpec{Name: label, Hub: "chat", User: user} }

func stateEv(at time.Duration, label, user string, st client.State) Event {
	ev := Event{Conn: spec(label, user), Event: client.Event{Kind: client.EventState, Time: t0.Add(at), State: st, Transport: "WebSockets",
		ConnectionID: "id-" + user}}
	if st == client.Connected {
		// A redirect to the service names the hub, as the client reports it.
		ev.Hub = "chat"
		ev.AccessToken = fakeJWT(map[string]any{"asrs.s.uid": user, "aud": "http://127.0.0.1:8888/client/?hub=chat", "exp": float64(t0.Add(time.Hour).Unix()), "iat": float64(t0.Unix())})
	}
	return ev
}

func msgEv(at time.Duration, label, target, args, route string) Event {
	msg := protocol.NewInvocation(target, json.RawMessage(args))
	if route != "" {
		msg.Headers = protocol.EncodeHeaders(map[string]string{"route": route})
		msg.Fields |= protocol.FieldHeaders
	}
	raw := protocol.AppendMessage(nil, &msg)
	raw = raw[:len(raw)-1]
	msg, err := protocol.ParseMessage(raw, protocol.Lenient)
	if err != nil {
		panic(err)
	}
	return Event{Conn: spec(label, userOf(label)), Event: client.Event{Kind: client.EventMessage, Time: t0.Add(at), Message: msg, Raw: raw}}
}

// badEv is a record that fails to parse on label's connection, as the
// client reports it.
func badEv(at time.Duration, label, raw string) Event {
	_, err := protocol.ParseMessage([]byte(raw), protocol.Lenient)
	if err == nil {
		panic("badEv: " + raw + " parses")
	}
	return Event{Conn: spec(label, userOf(label)), Event: client.Event{Kind: client.EventError, Time: t0.Add(at), Raw: []byte(raw), Err: err}}
}

// userOf is the user a test label names: alice for alice#2@chat.
func userOf(label string) string {
	u, _, _ := strings.Cut(label, "@")
	u, _, _ = strings.Cut(u, "#")
	return u
}

func chat(sender, text string) string {
	b, _ := json.Marshal([]protocol.ChatMessage{{Sender: sender, Text: text}})
	return string(b)
}

// liveEvents is a small session: alice twice, bob, and traffic broadcast, to
// a user, to a group, and one message with no route header.
func liveEvents() []Event {
	evs := []Event{
		stateEv(0, "alice@chat", "alice", client.Connected),
		stateEv(0, "bob@chat", "bob", client.Connected),
		stateEv(0, "alice#2@chat", "alice", client.Connected),
	}
	evs[2].ConnectionID = "id-alice-2"
	at := time.Second
	for i := range 6 {
		a := chat("carol", fmt.Sprintf("hello everyone %d", i))
		for _, c := range []string{"alice@chat", "bob@chat", "alice#2@chat"} {
			evs = append(evs, msgEv(at, c, "newMessage", a, "broadcast"))
		}
		at += 2 * time.Second
		u := chat("dave", "psst alice")
		evs = append(evs, msgEv(at, "alice@chat", "newMessage", u, "user:alice"), msgEv(at, "alice#2@chat", "newMessage", u, "user:alice"))
		at += time.Second
		evs = append(evs, msgEv(at, "bob@chat", "newMessage", chat("erin", "devs standup in 5"), "group:devs"))
		at += time.Second
	}
	evs = append(evs, msgEv(at, "bob@chat", "priceTick", `[{"sym":"ACME","px":12.5}]`, ""))
	return evs
}

func feed(m *Model, evs []Event) {
	m.Update(batchMsg(Batch{Events: evs}))
}
