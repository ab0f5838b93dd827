package tui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"go.uber.org/goleak"

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

func stateEv(at time.Duration, label, user string, st ConnState) Event {
	ev := Event{Kind: EventState, Time: t0.Add(at), Conn: label, Hub: "chat", User: user, State: st, Transport: "WebSockets",
		ConnectionID: "id-" + user}
	if st == StateConnected {
		ev.Token = fakeJWT(map[string]any{"asrs.s.uid": user, "aud": "http://127.0.0.1:8888/client/?hub=chat", "exp": float64(t0.Add(time.Hour).Unix()), "iat": float64(t0.Unix())})
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
	return Event{Kind: EventMessage, Time: t0.Add(at), Conn: label, Hub: "chat", Msg: msg, Raw: raw}
}

func chat(sender, text string) string {
	b, _ := json.Marshal([]protocol.ChatMessage{{Sender: sender, Text: text}})
	return string(b)
}

// liveEvents is a small session: alice twice, bob, and traffic broadcast, to
// a user, to a group, and one message with no route header.
func liveEvents() []Event {
	evs := []Event{
		stateEv(0, "alice@chat", "alice", StateConnected),
		stateEv(0, "bob@chat", "bob", StateConnected),
		stateEv(0, "alice#2@chat", "alice", StateConnected),
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
