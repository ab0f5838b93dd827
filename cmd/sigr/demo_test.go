package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/emulator"
	"github.com/sigr-dev/sigr/manage"
	"github.com/sigr-dev/sigr/protocol"
)

// TestDemoDaveChatsOverHisConnection runs the demo's simulated chat
// against the emulator as the demo starts it: dave's messages reach alice
// as the bidirectional hub's newMessage, from dave's connection (so they
// went through his invocation of broadcast, not a post), and alice is told
// of dave's connection with newConnection.
func TestDemoDaveChatsOverHisConnection(t *testing.T) {
	verifyNoLeaks(t)
	st, err := emulator.StartStack(context.Background(), emulator.StackOptions{
		ServiceAddr: "127.0.0.1:0", FunctionsAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), AnnounceConnections: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	alice, err := client.New(client.Options{URL: st.FunctionsURL, UserID: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer alice.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	dave, err := connectDemoUser(ctx, st.FunctionsURL, "dave", &wg)
	if err != nil {
		t.Fatal(err)
	}
	defer dave.Close()
	fa, err := manage.NewFunctionApp(st.FunctionsURL, manage.FunctionAppOptions{})
	if err != nil {
		t.Fatal(err)
	}
	chatCtx, stopChat := context.WithCancel(ctx)
	defer stopChat()
	wg.Go(func() { simulateChat(chatCtx, fa, dave, 5*time.Millisecond) })

	announced, fromDave, posted := false, false, false
	for !announced || !fromDave || !posted {
		var ev client.Event
		select {
		case ev = <-alice.Events():
		case <-ctx.Done():
			t.Fatalf("after 20 s: dave announced %v, dave's invocation arrived %v, a post arrived %v", announced, fromDave, posted)
		}
		if ev.Kind != client.EventMessage || ev.Message.Type != protocol.TypeInvocation {
			continue
		}
		var args []map[string]string
		if err := json.Unmarshal(ev.Message.Arguments, &args); err != nil || len(args) != 1 {
			t.Fatalf("%s arguments %s", ev.Message.Target, ev.Message.Arguments)
		}
		a := args[0]
		switch {
		case ev.Message.Target == "newConnection" && a["connectionId"] == dave.ConnectionID():
			announced = true
		case ev.Message.Target == "newMessage" && a["sender"] == "dave":
			if a["connectionId"] != dave.ConnectionID() || a["text"] == "" {
				t.Fatalf("dave's message %v, want his connection id %s", a, dave.ConnectionID())
			}
			fromDave = true
		case ev.Message.Target == "newMessage":
			if _, ok := a["connectionId"]; ok {
				t.Fatalf("a posted chat message carries a connection id: %v", a)
			}
			posted = true
		}
	}
	stopChat()
	go func() {
		for range alice.Events() {
		}
	}()
}
