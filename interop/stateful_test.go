package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/internal/cutproxy"
	"github.com/sigr-dev/sigr/manage"
)

// TestStatefulReconnectOfficialClient runs the official JS client with
// withStatefulReconnect() against the emulator through a proxy that the
// test cuts after the first half of the messages; the second half is
// sent while the client is off the network. The client must resume the
// same connection and receive every message exactly once, in order, and
// the emulator must have logged a resume. With 1000 messages the first
// half (about 40 KB, unacknowledged when the cut comes) is replayed in
// several writes, and the emulator waits for the client's Sequence after
// the first: the official client, which sends no Ack on a resume, must
// take that just as well.
func TestStatefulReconnectOfficialClient(t *testing.T) {
	for _, count := range []int{40, 1000} {
		t.Run(fmt.Sprint(count), func(t *testing.T) { officialResume(t, count) })
	}
}

func officialResume(t *testing.T, count int) {
	// Registered first, so it runs after every other cleanup.
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	proxy := cutproxy.New(t)
	logs := &lockedBuffer{}
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:    "127.0.0.1:0",
		FunctionsAddr:  "127.0.0.1:0",
		ClientEndpoint: "http://" + proxy.Addr(),
		Logger:         slog.New(slog.NewTextHandler(logs, nil)),
		Service:        emulator.ServiceOptions{ShutdownTimeout: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	proxy.SetTarget(strings.TrimPrefix(st.ServiceURL, "http://"))
	rc, err := manage.NewRESTClient(st.ConnectionString, manage.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}

	driven := make(chan error, 1)
	first := make(chan struct{}) // closed when the client has a message
	lines := runScript(t, "stateful-resume.mjs", func(l line) {
		switch l.Event {
		case "connected":
			go func() { driven <- drive(rc, proxy, l.ConnectionID, count, first) }()
		case "first":
			close(first)
		}
	}, st.FunctionsURL, fmt.Sprint(count))
	select {
	case err := <-driven:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the test never drove the connection")
	}
	var got []int
	for _, l := range lines {
		if l.Event == "step" {
			if !l.OK {
				t.Error("the client fired onreconnecting: it reconnected instead of resuming")
			}
			for _, a := range l.Args {
				var n int
				if err := json.Unmarshal(a, &n); err != nil {
					t.Fatalf("received %s", a)
				}
				got = append(got, n)
			}
		}
	}
	if len(got) != count {
		t.Fatalf("received %d numbers, want %d: %v", len(got), count, got)
	}
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("received %v: want 1..%d in order, once each", got, count)
		}
	}
	i := strings.Index(logs.String(), "client resumed")
	if i < 0 {
		t.Fatalf("the emulator logged no resume:\n%s", logs.String())
	}
	resumed, _, _ := strings.Cut(logs.String()[i:], "\n")
	t.Logf("official client resumed after %d cut(s); %d of %d messages arrived in order, none twice; the emulator: %s", proxy.Cuts(), len(got), count, resumed)
}

// drive waits for the connection, sends the first half, cuts the network
// once the client has received a message of it (first is closed), then
// sends the second half while the client resumes.
func drive(rc *manage.RESTClient, proxy *cutproxy.Proxy, id string, count int, first <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		ok, err := rc.ConnectionExists(ctx, "chat", id)
		if err != nil {
			return err
		}
		if ok {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	send := func(from, to int) error {
		for i := from; i <= to; i++ {
			if err := rc.SendToConnection(ctx, "chat", id, "n", json.RawMessage(fmt.Sprint("[", i, "]"))); err != nil {
				return err
			}
		}
		return nil
	}
	if err := send(1, count/2); err != nil {
		return err
	}
	select {
	case <-first:
	case <-ctx.Done():
		return fmt.Errorf("the client received none of the first %d messages: %w", count/2, ctx.Err())
	}
	if proxy.Cut() == 0 {
		return fmt.Errorf("no connection to cut")
	}
	return send(count/2+1, count)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
