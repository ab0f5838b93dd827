package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/loadtest"
)

// TestBenchRefusesRemoteWithoutYes checks that bench says what it would
// do to a host that is not this machine and does nothing without --yes.
func TestBenchRefusesRemoteWithoutYes(t *testing.T) {
	for _, c := range []struct {
		args []string
		f    benchFlags
	}{
		{[]string{"https://myapp.azurewebsites.net/api"}, benchFlags{}},
		{nil, benchFlags{connectionString: "Endpoint=https://x.service.signalr.net;AccessKey=k;Version=1.0;"}},
	} {
		f := c.f
		f.connections, f.rate, f.duration, f.mode = 250, 5, time.Second, "broadcast"
		var out, errOut bytes.Buffer
		err := runBench(context.Background(), &out, &errOut, c.args, &f)
		if err == nil || !strings.Contains(err.Error(), "will open 250 connections to ") || !strings.Contains(err.Error(), "--yes") {
			t.Fatalf("runBench(%v) = %v", c.args, err)
		}
		if out.Len() != 0 {
			t.Fatalf("wrote %q before confirmation", out.String())
		}
	}
}

// TestBenchEmulatorJSON runs a small bench against the emulator in a
// child process and reads its JSON result, with the emulator's own cost.
func TestBenchEmulatorJSON(t *testing.T) {
	t.Setenv(runMainEnv, "1")
	f := benchFlags{emulator: true, connections: 8, groups: 2, mode: "group", rate: 40, duration: 300 * time.Millisecond,
		settle: 2 * time.Second, concurrency: 8, json: true, quiet: true}
	var out, errOut bytes.Buffer
	if err := runBench(context.Background(), &out, &errOut, nil, &f); err != nil {
		t.Fatal(err)
	}
	var res loadtest.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v in %q", err, out.String())
	}
	if res.Connected != 8 || res.Sent == 0 || res.Delivered != res.Sent*4 || res.Lost != 0 || res.Latency.P99 <= 0 {
		t.Fatalf("result %+v", res)
	}
	if c := res.Server; c == nil || c.CPUSeconds <= 0 || c.Allocs == 0 || c.CPUMicrosPerDelivery <= 0 || c.Seconds <= 0 {
		t.Fatalf("emulator cost %+v (%s)", res.Server, res.ServerNote)
	}
	if errOut.Len() != 0 {
		t.Fatalf("stderr %q with --quiet against loopback", errOut.String())
	}
}

func TestBenchFlagErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		f    benchFlags
		want string
	}{
		{nil, benchFlags{connections: 0, rate: 1, duration: time.Second}, "more than 0"},
		{[]string{"ftp://x/api"}, benchFlags{connections: 1, rate: 1, duration: time.Second}, `URL "ftp://x/api" must start with http:// or https://`},
		{[]string{"127.0.0.1:7071/api"}, benchFlags{connections: 1, rate: 1, duration: time.Second}, "did you mean http://127.0.0.1:7071/api?"},
		{[]string{"http://127.0.0.1:1/api"}, benchFlags{emulator: true, connections: 1, rate: 1, duration: time.Second}, "--emulator starts its own"},
		{[]string{"http://127.0.0.1:1/api"}, benchFlags{connections: 1, rate: 1, duration: time.Second, headers: []string{"nocolon"}}, "Name: value"},
	} {
		t.Setenv(connectionStringEnv, "")
		err := runBench(context.Background(), &bytes.Buffer{}, &bytes.Buffer{}, c.args, &c.f)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("runBench(%v, %+v) = %v, want %q", c.args, c.f, err, c.want)
		}
	}
}
