package tui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// testKey is the access key the tests' service signs carol's token with.
const testKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH"

// signedJWT is a token signed with key, as the service hands out.
func signedJWT(claims map[string]any, key string) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims)).SignedString([]byte(key))
	if err != nil {
		panic(err)
	}
	return tok
}

// answer is the emulator's answer to a send that reached n connections,
// with its reason when n is 0.
func answer(status, n int, reason string) manage.Outcome {
	h := http.Header{}
	h.Set(protocol.HeaderDelivered, fmt.Sprint(n))
	if n == 0 {
		h.Set(protocol.HeaderUndelivered, reason)
	}
	return manage.Outcome{Status: status, Header: h}
}

// bobReason is the emulator's reason for a send to user Bob.
const bobReason = "no connection for user 'Bob'; user ids are case-sensitive; connected users: alice, bob, carol"

// sendNow composes what the composer holds, runs the send's command with
// the sender's answer and hands the answer to Update, as the program
// would.
func sendNow(m *Model, as, to, text string) {
	m.composer.as.SetValue(as)
	m.composer.to.SetValue(to)
	m.composer.body.SetValue(text)
	cmd := m.send()
	if cmd == nil {
		panic("nothing sent: " + m.flash.text)
	}
	m.Update(cmd())
}

// emulatorAnswers answers as sigr's emulator would for the live session
// plus carol: to user Bob and to group ops nobody, to everyone four
// connections.
func emulatorAnswers(out Outgoing) (manage.Outcome, error) {
	switch {
	case out.To == ToUser && out.Name == "Bob":
		return answer(http.StatusOK, 0, bobReason), nil
	case out.To == ToGroup && out.Name == "ops":
		return answer(http.StatusOK, 0, "group 'ops' has no members"), nil
	case out.To == ToAll:
		return answer(http.StatusOK, 4, ""), nil
	}
	return answer(http.StatusOK, 1, ""), nil
}

// carolConnected is carol's connection coming up with a token signed by
// testKey.
func carolConnected(at time.Duration) Event {
	ev := stateEv(at, "carol@chat", "carol", client.Connected)
	ev.AccessToken = signedJWT(map[string]any{"asrs.s.uid": "carol", "aud": "http://127.0.0.1:8888/client/?hub=chat",
		"exp": float64(t0.Add(time.Hour).Unix()), "iat": float64(t0.Unix()), "nbf": float64(t0.Unix())}, testKey)
	return ev
}

// newOutcomeModel is the live session with a fourth connection, carol's,
// and alice's sends from the composer: to Bob (wrong case), to the empty
// group ops, and to everyone, which all four connections receive; then an
// invocation of echo and carol joining devs.
func newOutcomeModel(w, h int) *Model {
	sender := &fakeSender{answer: emulatorAnswers}
	m := newLiveModel(w, h, Config{Sender: sender, AccessKey: testKey, Session: &invokerSession{}})
	feed(m, []Event{carolConnected(26 * time.Second)})
	sendNow(m, "alice", "user:Bob", "are you there, bob?")
	sendNow(m, "alice", "group:ops", "deploy is done")
	sendNow(m, "alice", "all", "lunch at noon? the usual place, and bring the release notes so we can go through them")
	var evs []Event
	for _, c := range []string{"alice@chat", "bob@chat", "alice#2@chat", "carol@chat"} {
		evs = append(evs, msgEv(30*time.Second, c, "newMessage", chat("alice", "lunch at noon? the usual place, and bring the release notes so we can go through them"), "broadcast"))
	}
	feed(m, evs)
	m.composer.target.SetValue("echo")
	m.composer.to.SetValue("invoke")
	m.composer.body.SetValue("ping")
	if cmd := m.send(); cmd != nil {
		m.Update(cmd())
	}
	feed(m, []Event{answerEv(30*time.Second, "alice@chat", protocol.NewCompletion("1", json.RawMessage(`"ping"`), ""))})
	m.composer.to.SetValue("")
	m.composer.target.SetValue("")
	if cmd := m.groupAction("devs", "join", "user:carol"); cmd != nil {
		m.Update(cmd())
	}
	return m
}

// invokerSession is a Session whose invocations are written at once with
// id 1 and end when the test says; it opens nothing.
type invokerSession struct{}

func (invokerSession) Conns() <-chan Source                 { return nil }
func (invokerSession) Open(context.Context, ConnSpec) error { return nil }
func (invokerSession) Close() error                         { return nil }
func (invokerSession) Invoke(context.Context, Call) (Pending, error) {
	return Pending{ID: "1", Wait: func(context.Context) error { return nil }}, nil
}
