package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/sigr-dev/sigr/client"
	"github.com/sigr-dev/sigr/protocol"
	"github.com/sigr-dev/sigr/tui"
)

// TestSendTextDefaultSender: `sigr send --text` without --user sends as
// the name the TUI sends as without one, not as an empty sender.
func TestSendTextDefaultSender(t *testing.T) {
	st := startTestStack(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.New(client.Options{URL: st.FunctionsURL, UserID: "alice", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := runSend(ctx, io.Discard, []string{st.FunctionsURL}, &sendFlags{id: &identityFlags{}, text: "hi", toUser: "alice"}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case ev := <-c.Events():
			if ev.Kind != client.EventMessage || ev.Message.Target != protocol.ChatTarget {
				continue
			}
			var body []protocol.ChatMessage
			if err := json.Unmarshal(ev.Message.Arguments, &body); err != nil || len(body) != 1 {
				t.Fatalf("arguments %s: %v", ev.Message.Arguments, err)
			}
			if body[0].Sender != tui.DefaultSender || body[0].Text != "hi" {
				t.Fatalf("received %+v, want sender %q", body[0], tui.DefaultSender)
			}
			return
		case <-ctx.Done():
			t.Fatal("the chat message never arrived")
		}
	}
}
