package tui

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestChatObjectMatchesJSON reads chat bodies as encoding/json reads them
// into the sample's struct: member names ignoring case (the Unicode
// folds too), escapes in names and values, members to skip.
func TestChatObjectMatchesJSON(t *testing.T) {
	bodies := []string{
		`{"sender":"bob","text":"hi"}`,
		`{"Sender":"bob","TEXT":"hi","recipient":"alice"}`,
		`{"\u0073ender":"bob","text":"a \"quoted\" \u00e9"}`,
		`{"ſender":"bob","text":"long s folds to s"}`,
		`{"sender":"bob","x":{"y":[1,"}"]},"text":"after a nested value","groupName":"devs","connectionid":"c1"}`,
		`{"senderx":"bob","text":"no sender"}`,
		`{"text":"no sender"}`,
		`{"text":"text first","sender":"bob"}`,
		`{"sender":"bob","padding":"` + strings.Repeat("x", 2*maxChatGap) + `","text":"far from its sender"}`,
		`{"sender":"b\"ob","text":"escaped sender"}`,
		`{"text":"escaped sender after","sender":"\u0062ob"}`,
		`{"sender":"bob","text":"first text","text":"the last text counts"}`,
	}
	for _, body := range bodies {
		var want struct {
			Sender, Text, Recipient, GroupName, ConnectionID string
		}
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		got, ok := chatObject([]byte(body), 0)
		if !ok {
			t.Fatalf("%s: not read as a chat message", body)
		}
		if got.sender != want.Sender || got.text != want.Text || got.recipient != want.Recipient ||
			got.group != want.GroupName || got.connectionID != want.ConnectionID {
			t.Errorf("%s: got %+v, encoding/json reads %+v", body, got, want)
		}
	}
	if _, ok := chatObject([]byte(`{"sender":"bob"}`), 0); ok {
		t.Error("an object with no text read as a chat message")
	}
	body := []byte(`{"sender":"bob","text":"hi"}`)
	if n := testing.AllocsPerRun(100, func() { chatObject(body, 0) }); n > 1 {
		t.Errorf("%v allocations to read a chat body; want one for its two strings", n)
	}
}
