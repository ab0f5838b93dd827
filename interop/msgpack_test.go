package interop

import (
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// TestEmulatorMessagePackOfficialClient runs official clients over JSON
// and MessagePack (@microsoft/signalr-protocol-msgpack 10.0.11) on one
// hub, over WebSockets and long polling: a broadcast, a user send and a
// group send reach exactly their recipients with the same values whatever
// their protocol, and invocations over MessagePack reach the upstream and
// come back.
func TestEmulatorMessagePackOfficialClient(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	for _, transport := range []string{"WebSockets", "LongPolling"} {
		t.Run(transport, func(t *testing.T) {
			st := startEmulator(t)
			lines := runScript(t, "emulator-msgpack.mjs", nil, strings.TrimSuffix(st.FunctionsURL, "/"), transport)
			steps := map[string]bool{}
			bob := ""
			for _, l := range lines {
				switch {
				case l.Event == "step":
					steps[l.Step] = l.OK
					if l.Step == "nosuch" && !strings.Contains(l.Error, "Invocation failed, status code 404") {
						t.Errorf("nosuch failed with %q, want the upstream's 404", l.Error)
					}
				case l.Event == "connected":
					bob = l.ConnectionID
				}
			}
			for _, s := range []string{"broadcast", "user", "group", "echo", "nosuch", "invoked broadcast"} {
				if ok, seen := steps[s]; !seen || !ok {
					t.Errorf("step %s: ok=%v seen=%v", s, ok, seen)
				}
			}
			const value = `{"text":"naïve ☕","list":[1,"two",null,true],"n":4.5,"big":1732800000000}`
			want := []string{
				`alice-json newMessage {"connectionId":"BOB","sender":"bob","text":"hello from bob"}`,
				`alice-json newMessage {"sender":"bob","text":"hi alice","recipient":"alice"}`,
				`alice-json notify "to everyone",` + value,
				`alice-msgpack newMessage {"connectionId":"BOB","sender":"bob","text":"hello from bob"}`,
				`alice-msgpack newMessage {"sender":"bob","text":"hi alice","recipient":"alice"}`,
				`alice-msgpack notify "to everyone",` + value,
				`bob-msgpack newMessage {"connectionId":"BOB","sender":"bob","text":"hello from bob"}`,
				`bob-msgpack notify "to everyone",` + value,
				`bob-msgpack notify "to g1"`,
			}
			for i := range want {
				want[i] = strings.Replace(want[i], "BOB", bob, 1)
			}
			got := received(lines)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}
