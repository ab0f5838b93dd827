package loadtest

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
)

func startStack(t *testing.T) *emulator.Stack {
	t.Helper()
	opts := emulator.StackOptions{ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	opts.Service.ShutdownTimeout = time.Second
	st, err := emulator.StartStack(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestRunAgainstEmulator drives every mode through both paths with a few
// connections and checks that every send is delivered exactly once to
// exactly its recipients, with measured latencies.
func TestRunAgainstEmulator(t *testing.T) {
	st := startStack(t)
	const n, groups = 12, 3
	for _, via := range []Via{ViaREST, ViaFunctions} {
		for _, mode := range []Mode{Broadcast, ToUser, ToGroup} {
			t.Run(string(via)+"/"+string(mode), func(t *testing.T) {
				o := Options{
					ConnectionString: st.ConnectionString, Via: via, Mode: mode,
					Connections: n, Groups: groups, Rate: 100, Duration: 300 * time.Millisecond, Settle: 3 * time.Second,
				}
				if via == ViaFunctions {
					o.URL = st.FunctionsURL
				}
				var calls int
				var mu sync.Mutex
				o.Progress = func(p Progress) { mu.Lock(); calls++; mu.Unlock() }
				o.ProgressEvery = 20 * time.Millisecond
				res, err := Run(context.Background(), o)
				if err != nil {
					t.Fatal(err)
				}
				if res.Connected != n || res.ConnectErrors != 0 || res.Dropped != 0 {
					t.Fatalf("connected %d of %d, %d errors, %d dropped: %+v", res.Connected, n, res.ConnectErrors, res.Dropped, res.Errors)
				}
				t.Logf("sent %d late %d send %+v latency %+v", res.Sent, res.LateSends, res.Send, res.Latency)
				if res.Sent < 5 || res.SendErrors != 0 {
					t.Fatalf("sent %d, %d errors: %+v", res.Sent, res.SendErrors, res.Errors)
				}
				var want int64
				switch mode {
				case Broadcast:
					want = res.Sent * n
				case ToUser:
					want = res.Sent
				case ToGroup:
					want = res.Sent * n / groups // 12 users, 4 per group
				}
				if res.Expected != want || res.Delivered != want || res.Lost != 0 || res.Duplicates != 0 {
					t.Fatalf("expected %d (want %d), delivered %d, lost %d, dups %d", res.Expected, want, res.Delivered, res.Lost, res.Duplicates)
				}
				if res.Latency.Count != want || res.Latency.P50 <= 0 || res.Latency.Max < res.Latency.P99 || res.Latency.P99 < res.Latency.P50 {
					t.Fatalf("latency %+v", res.Latency)
				}
				if res.Connect.Count != n || res.Connect.P50 <= 0 {
					t.Fatalf("connect %+v", res.Connect)
				}
				mu.Lock()
				defer mu.Unlock()
				if calls < 2 {
					t.Fatalf("progress called %d times", calls)
				}
				// The emulator runs in this process: its counters include the
				// connections', so only their presence is checked here.
				if c := res.Server; c == nil || c.Allocs == 0 || c.CPUSeconds < 0 || c.Seconds <= 0 || c.AllocsPerDelivery <= 0 || c.RSS <= 0 {
					t.Fatalf("server cost %+v (%s)", res.Server, res.ServerNote)
				}
				var buf bytes.Buffer
				if err := res.WriteText(&buf); err != nil || !strings.Contains(buf.String(), "latency") || !strings.Contains(buf.String(), "allocs per delivery") {
					t.Fatalf("report %q: %v", buf.String(), err)
				}
			})
		}
	}
}

// TestRunCountsDropsAndLosses closes one user's connection through the
// REST API in the middle of the send phase: the run must count that
// connection as dropped and the broadcasts it missed as lost, and a
// target with nothing listening must fail with the connect error.
func TestRunCountsDropsAndLosses(t *testing.T) {
	_, err := Run(context.Background(), Options{ConnectionString: "Endpoint=http://127.0.0.1;Port=1;AccessKey=" + emulator.DefaultAccessKey + ";Version=1.0;", Connections: 3, Duration: 10 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "no connection could be opened: negotiate") {
		t.Fatalf("Run to a closed port: %v", err)
	}

	st := startStack(t)
	var once sync.Once
	kick := func(p Progress) {
		if p.Phase != "sending" || p.Sent < 3 {
			return
		}
		once.Do(func() {
			u := st.ServiceURL + "/api/hubs/chat/users/drop-0/:closeConnections"
			tok, err := manage.MintRESTToken(emulator.DefaultAccessKey, u, time.Minute)
			if err != nil {
				t.Error(err)
				return
			}
			req, _ := http.NewRequest(http.MethodPost, u, nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			http.DefaultClient.CloseIdleConnections()
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("closeConnections: %d", resp.StatusCode)
			}
		})
	}
	res, err := Run(context.Background(), Options{ConnectionString: st.ConnectionString, Connections: 3, Rate: 50, Duration: 400 * time.Millisecond,
		Settle: 300 * time.Millisecond, UserPrefix: "drop", Progress: kick, ProgressEvery: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Dropped != 1 || len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Error, "connection lost") {
		t.Fatalf("dropped %d, errors %+v", res.Dropped, res.Errors)
	}
	if res.Lost < 5 || res.Delivered+res.Lost != res.Expected || res.Expected != 3*res.Sent {
		t.Fatalf("sent %d expected %d delivered %d lost %d", res.Sent, res.Expected, res.Delivered, res.Lost)
	}
}

// TestServerCostNote checks that a service without the emulator's
// process endpoint gets a note instead of a cost.
func TestServerCostNote(t *testing.T) {
	azure := httptest.NewServer(http.NotFoundHandler())
	defer azure.Close()
	p := newServerProbe(Options{ConnectionString: "Endpoint=" + azure.URL + ";AccessKey=k;Version=1.0;"}, azure.Client())
	p.start(context.Background())
	res := &Result{Delivered: 10}
	p.finish(context.Background(), res)
	if res.Server != nil || !strings.Contains(res.ServerNote, "not sigr's emulator") {
		t.Fatalf("server %+v, note %q", res.Server, res.ServerNote)
	}
	res = &Result{Delivered: 10}
	p = newServerProbe(Options{URL: azure.URL}, nil)
	p.start(context.Background())
	p.finish(context.Background(), res)
	if res.Server != nil || res.ServerNote != "" || res.Client == nil {
		t.Fatalf("without a connection string: server %+v, note %q, client %+v", res.Server, res.ServerNote, res.Client)
	}
}

// TestHoldWithConnectionString holds connections that mint their own
// tokens, as the fan-out benchmark does.
func TestHoldWithConnectionString(t *testing.T) {
	st := startStack(t)
	held := -1
	hr, err := Hold(context.Background(), Options{ConnectionString: st.ConnectionString, Connections: 5, UserPrefix: "hold"},
		func(ctx context.Context, n int) {
			hubs, err := manage.Hubs(ctx, manage.Inspect{Endpoint: st.ServiceURL, AccessKey: emulator.DefaultAccessKey})
			if err == nil && len(hubs) == 1 {
				held = hubs[0].Connections
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if hr.Connected != 5 || hr.ConnectErrors != 0 || held != 5 {
		t.Fatalf("connected %d, errors %d, the service held %d: %+v", hr.Connected, hr.ConnectErrors, held, hr.Errors)
	}
}

func TestOptionsErrors(t *testing.T) {
	// A port that was just free, so nothing of another process answers there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/api"
	ln.Close()
	for _, o := range []Options{
		{},
		{URL: closed, Via: ViaREST},
		{ConnectionString: "Endpoint=http://x;AccessKey=k;Version=1.0;", Via: ViaFunctions},
		{ConnectionString: "Endpoint=http://x;AccessKey=k;Version=1.0;", Mode: "everyone"},
		{ConnectionString: "Endpoint=http://x;AccessKey=k;Version=1.0;", Mode: ToGroup},
	} {
		if _, err := Run(context.Background(), o); err == nil {
			t.Errorf("Run(%+v) did not fail", o)
		}
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	vals := make([]int64, 20000)
	for i := range vals {
		// Spread over six orders of magnitude, in microseconds.
		vals[i] = int64(rand.ExpFloat64() * 5000)
		h.add(time.Duration(vals[i]) * time.Microsecond)
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	got := h.summary()
	for _, c := range []struct {
		q   float64
		got float64
	}{{0.5, got.P50}, {0.9, got.P90}, {0.99, got.P99}} {
		exact := float64(vals[int(c.q*float64(len(vals)))-1]) / 1000
		if d := (c.got - exact) / exact; d > 0.02 || d < -0.02 {
			t.Errorf("p%.0f = %.3f ms, exact %.3f ms (%.1f%% off)", c.q*100, c.got, exact, d*100)
		}
	}
	if want := float64(vals[len(vals)-1]) / 1000; got.Max != want {
		t.Errorf("max %.3f, want %.3f", got.Max, want)
	}
	if got.Count != int64(len(vals)) {
		t.Errorf("count %d", got.Count)
	}
}

func TestBucketsAreMonotonic(t *testing.T) {
	prev := -1
	for us := int64(0); us < 1<<34; us = us*17/16 + 1 {
		b := bucketOf(us)
		if b < prev {
			t.Fatalf("bucketOf(%d) = %d < %d", us, b, prev)
		}
		if v := bucketValue(b); us > 200 && (float64(v)-float64(us))/float64(us) > 0.02 {
			t.Fatalf("bucket %d of %d µs reads back %d", b, us, v)
		}
		prev = b
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	p := newPayload(`run"1`, 200)
	_ = p
	args := p.args(42, 1700000000123456789)
	if len(args) < 180 {
		t.Fatalf("padded payload is %d bytes", len(args))
	}
	seq, sent, ok := p.parse(args)
	if !ok || seq != 42 || sent != 1700000000123456789 {
		t.Fatalf("parse = %d %d %v", seq, sent, ok)
	}
	// Re-serialised with spaces, as another service might.
	spaced := []byte(`[ { "run" : "run\"1", "seq" : 7, "sentNs" : 99 } ]`)
	if seq, sent, ok := p.parse(spaced); !ok || seq != 7 || sent != 99 {
		t.Fatalf("spaced parse = %d %d %v", seq, sent, ok)
	}
	if _, _, ok := newPayload("other", 0).parse(args); ok {
		t.Fatal("a message of another run was counted")
	}
	if _, _, ok := p.parse([]byte(`[{"run":"run\"1","seq":"x"}]`)); ok {
		t.Fatal("a message without numbers was counted")
	}
}

func TestIsLoopback(t *testing.T) {
	for h, want := range map[string]bool{
		"127.0.0.1": true, "::1": true, "[::1]": true, "localhost": true, "LOCALHOST.": true, "app.localhost": true, "127.8.9.1": true,
		"example.com": false, "10.0.0.1": false, "my.service.signalr.net": false, "": false, "localhost.example.com": false,
	} {
		if got := IsLoopback(h); got != want {
			t.Errorf("IsLoopback(%q) = %v", h, got)
		}
	}
	hosts, err := Hosts(Options{URL: "http://func.example.com/api", ConnectionString: "Endpoint=https://x.service.signalr.net;AccessKey=k;Version=1.0;"})
	if err != nil || len(hosts) != 2 || hosts[0] != "func.example.com" || hosts[1] != "x.service.signalr.net" {
		t.Fatalf("Hosts = %v, %v", hosts, err)
	}
}

func TestProgressLine(t *testing.T) {
	var buf bytes.Buffer
	bar := ProgressBar(&buf, true)
	bar(Progress{Phase: "connecting", Connections: 10, Connected: 5})
	bar(Progress{Phase: "sending", Connections: 10, Connected: 10, Sent: 3, Expected: 30, Delivered: 29, Elapsed: time.Second, Duration: 4 * time.Second})
	bar(Progress{Phase: "done", Connections: 10, Connected: 10, Sent: 12, Expected: 120, Delivered: 120, SendErrors: 1})
	out := buf.String()
	for _, want := range []string{" 50%  conns 5/10", " 25%  conns 10/10  sent 3  delivered 29/30", "100%", "send errors 1", "\r\x1b[2K"} {
		if !strings.Contains(out, want) {
			t.Errorf("progress output %q lacks %q", out, want)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Error("the last line does not end the bar")
	}
	buf.Reset()
	plain := ProgressBar(&buf, false)
	plain(Progress{Phase: "sending"})
	plain(Progress{Phase: "sending"}) // within 5 s: not written
	plain(Progress{Phase: "done"})
	if n := strings.Count(buf.String(), "\n"); n != 2 || strings.Contains(buf.String(), "\r") {
		t.Errorf("plain progress wrote %q", buf.String())
	}
}
