package main

import (
	"strings"
	"testing"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
)

func TestConnFlagsApply(t *testing.T) {
	for in, want := range map[string]string{
		"websockets": protocol.TransportWebSockets, "SSE": protocol.TransportServerSentEvents,
		"LongPolling": protocol.TransportLongPolling, " lp ": protocol.TransportLongPolling,
		"ServerSentEvents": protocol.TransportServerSentEvents,
	} {
		var o client.Options
		if err := (&connFlags{transport: in, stateful: true}).apply(&o); err != nil {
			t.Fatalf("--transport %q: %v", in, err)
		}
		if len(o.Transports) != 1 || o.Transports[0] != want || !o.StatefulReconnect {
			t.Fatalf("--transport %q: %+v, want [%s] with stateful reconnect", in, o.Transports, want)
		}
	}
	var o client.Options
	if err := (&connFlags{}).apply(&o); err != nil || o.Transports != nil || o.StatefulReconnect {
		t.Fatalf("no flags: %v %+v", err, o)
	}
	if err := (&connFlags{transport: "carrier-pigeon"}).apply(&o); err == nil || !strings.Contains(err.Error(), "use websockets, sse or longpolling") {
		t.Fatalf("unknown transport: %v", err)
	}
}
