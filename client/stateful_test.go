package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/protocol"
)

// tcpCutter forwards loopback TCP connections to target and can reset
// every open one at once, like a network drop, while it keeps accepting.
type tcpCutter struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newTCPCutter(t *testing.T) *tcpCutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpCutter{ln: ln, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			target := p.target
			p.mu.Unlock()
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			p.mu.Lock()
			p.conns[in], p.conns[out] = struct{}{}, struct{}{}
			p.mu.Unlock()
			p.wg.Add(2)
			pipe := func(dst, src net.Conn) {
				defer p.wg.Done()
				_, _ = io.Copy(dst, src)
				dst.Close()
				src.Close()
			}
			go pipe(out, in)
			go pipe(in, out)
		}
	}()
	t.Cleanup(func() { ln.Close(); p.cut(); p.wg.Wait() })
	return p
}

func (p *tcpCutter) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		delete(p.conns, c)
	}
}

// TestStatefulReconnectResumes cuts the network under a stateful
// connection twice, sending while it is cut: the client resumes the same
// connection (a Connected event with Resumed, the same id, no
// Reconnecting) and every message arrives once, in order.
func TestStatefulReconnectResumes(t *testing.T) {
	cutter := newTCPCutter(t)
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr:    "127.0.0.1:0",
		FunctionsAddr:  "127.0.0.1:0",
		ClientEndpoint: "http://" + cutter.ln.Addr().String(),
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cutter.mu.Lock()
	cutter.target = st.ServiceURL[len("http://"):]
	cutter.mu.Unlock()

	c := dial(t, client.Options{URL: st.FunctionsURL, UserID: "sf", StatefulReconnect: true, AckInterval: 50 * time.Millisecond})
	first := await(t, c, "connected", isState(client.Connected))
	rc, err := client.NewRESTClient(st.ConnectionString, client.RESTOptions{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(from, to int) {
		for i := from; i <= to; i++ {
			if err := rc.SendToUser(context.Background(), "chat", "sf", "n", json.RawMessage(fmt.Sprint("[", i, "]"))); err != nil {
				t.Fatal(err)
			}
		}
	}
	got := []int{}
	resumes := 0
	collect := func(upTo int) {
		t.Helper()
		for len(got) < upTo {
			ev := await(t, c, "a number or a state", func(ev client.Event) bool {
				return ev.Kind == client.EventState || isTarget("n")(ev)
			})
			if ev.Kind == client.EventState {
				if ev.State != client.Connected || !ev.Resumed || ev.ConnectionID != first.ConnectionID {
					t.Fatalf("state %+v: want only Connected with Resumed and the same connection id", ev)
				}
				resumes++
				continue
			}
			var n []int
			if err := json.Unmarshal(ev.Message.Arguments, &n); err != nil {
				t.Fatal(err)
			}
			got = append(got, n[0])
		}
	}
	send(1, 20)
	collect(10)
	cutter.cut()
	send(21, 40)
	collect(30)
	cutter.cut()
	send(41, 60)
	collect(60)
	for i, n := range got {
		if n != i+1 {
			t.Fatalf("received %v: want 1..60, in order, once each", got)
		}
	}
	if resumes != 2 || c.ConnectionID() != first.ConnectionID || c.Transport() != protocol.TransportWebSockets {
		t.Fatalf("%d resumes, connection %q (was %q); want 2 resumes of the same connection", resumes, c.ConnectionID(), first.ConnectionID)
	}
}
