package emulator

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sigr-dev/sigr/protocol"
)

// TestWebhookMessagePack: the built-in function app reads a MessagePack
// client's invocation (application/x-msgpack, one length-prefixed record)
// and answers with a MessagePack Completion.
func TestWebhookMessagePack(t *testing.T) {
	st := startStack(t, nil)
	hook := strings.TrimSuffix(st.FunctionsURL, "/api") + WebhookPath
	hdr := webhookHeaders("messages", "echo", "c1")
	hdr["Content-Type"] = "application/x-msgpack"
	m := protocol.NewInvocation("echo", json.RawMessage(`[{"a":[1,{"$binary":"AQID"}]}]`))
	m.InvocationID, m.Fields = "7", m.Fields|protocol.FieldInvocationID
	body, err := protocol.AppendMessagePack(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	resp, answer := doReq(t, "POST", hook, "", body, hdr)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-msgpack" {
		t.Fatalf("status %d, type %q: %q", resp.StatusCode, resp.Header.Get("Content-Type"), answer)
	}
	recs, err := protocol.SplitBinaryRecords(answer)
	if err != nil || len(recs) != 1 {
		t.Fatalf("answer %x: %v", answer, err)
	}
	c, err := protocol.ParseMessagePack(recs[0], protocol.Strict)
	if err != nil || c.Type != protocol.TypeCompletion || c.InvocationID != "7" || string(c.Result) != `{"a":[1,{"$binary":"AQID"}]}` {
		t.Fatalf("completion %+v (%s): %v", c, c.Result, err)
	}
}
