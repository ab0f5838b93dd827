package emulator

import (
	"testing"
)

// BenchmarkConnectUpstream measures one client's connect, handshake and
// close, with no upstream and with the default upstream (the built-in
// function app, which gets a connected and a disconnected call per
// connection; the op ends when the disconnected call has returned).
func BenchmarkConnectUpstream(b *testing.B) {
	for _, bc := range []struct {
		name     string
		upstream bool
	}{{"none", false}, {"builtin", true}} {
		b.Run(bc.name, func(b *testing.B) {
			done := make(chan struct{}, 1)
			st := startStack(b, func(o *StackOptions) {
				o.ServiceOnly = !bc.upstream
				o.Service.OnUpstreamCall = func(c UpstreamCall) {
					if c.Event == EventDisconnected {
						done <- struct{}{}
					}
				}
			})
			tok := clientToken(b, st, "chat", "alice")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c, err := tryConnectWS(ctxT(b), st, "chat", tok)
				if err != nil {
					b.Fatal(err)
				}
				c.closeNow()
				if bc.upstream {
					<-done
				}
			}
		})
	}
}

// BenchmarkInvokeEchoUpstream measures one invoke('echo', x) round trip:
// client → service → built-in function app → Completion → client.
func BenchmarkInvokeEchoUpstream(b *testing.B) {
	st := startStack(b, nil)
	c := connectWS(b, st, "chat", "alice")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.invoke("1", "echo", `[{"n":1}]`)
		if m := c.completion("1"); string(m.Result) != `{"n":1}` {
			b.Fatalf("completion %+v", m)
		}
	}
}
