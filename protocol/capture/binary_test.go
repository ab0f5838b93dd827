package capture

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/sigr-dev/sigr/protocol"
)

// mpRecord writes m as a MessagePack record with its prefix.
func mpRecord(t *testing.T, m protocol.Message) []byte {
	t.Helper()
	b, err := protocol.AppendMessagePack(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeMessagePackRaw(t *testing.T) {
	var in []byte
	in = append(in, "{}\x1e"...)
	in = append(in, mpRecord(t, protocol.NewInvocation("newMessage", json.RawMessage(`[{"sender":"bob","data":{"$binary":"AQID"}}]`)))...)
	in = append(in, mpRecord(t, protocol.NewPing())...)
	in = append(in, 0x02, 0x91, 0xc1) // a record that does not decode
	in = append(in, mpRecord(t, protocol.NewClose("bye", true))...)
	in = append(in, 0x05, 0x95) // cut off
	want := lines(
		`{`+decodeTS+`,"event":"handshakeResponse"}`,
		`{`+decodeTS+`,"event":"invocation","target":"newMessage","arguments":[{"sender":"bob","data":{"$binary":"AQID"}}]}`,
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"error","error":"Unrecognized type byte: 0xc1","rawBase64":"kcE="}`,
		`{`+decodeTS+`,"event":"close","error":"bye","allowReconnect":true}`,
		`{`+decodeTS+`,"event":"error","error":"Incomplete message.","rawBase64":"BZU="}`,
	)
	o := Options{Protocol: protocol.ProtocolMessagePack}
	out, failed := decode(t, bytes.NewReader(in), false, o)
	wantFailed(t, failed, true)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
	// Read a byte at a time: records split across reads come out whole.
	out, _ = decode(t, iotest.OneByteReader(bytes.NewReader(in)), false, o)
	if out != want {
		t.Fatalf("one byte at a time:\n got %s\nwant %s", out, want)
	}

	// A client's side: the handshake request, then records; strict texts.
	in = append([]byte(`{"protocol":"messagepack","version":1}`+"\x1e"), 0x03, 0x92, 0x01, 0x80)
	out, _ = decode(t, bytes.NewReader(in), false, Options{Protocol: protocol.ProtocolMessagePack, Mode: protocol.Strict})
	want = lines(
		`{`+decodeTS+`,"event":"handshakeRequest","protocol":"messagepack","version":1}`,
		`{`+decodeTS+`,"event":"error","error":"Reading 'invocationId' as String failed.","rawBase64":"kgGA"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}

func TestDecodeMessagePackLimits(t *testing.T) {
	big := mpRecord(t, protocol.NewInvocation("m", json.RawMessage(`["`+strings.Repeat("x", 100)+`"]`)))
	in := append(append(append([]byte{}, big...), mpRecord(t, protocol.NewPing())...), 0xff, 0xff, 0xff, 0xff, 0x0f, 0x91, 0x06)
	out, failed := decode(t, bytes.NewReader(in), false, Options{Protocol: protocol.ProtocolMessagePack, MaxRecordSize: 64})
	wantFailed(t, failed, true)
	want := lines(
		`{`+decodeTS+`,"event":"error","error":"record of 110 bytes exceeds the 64-byte limit; raise the limit if such records are expected"}`,
		`{`+decodeTS+`,"event":"ping"}`,
		`{`+decodeTS+`,"event":"error","error":"Messages bigger than 2GB are not supported."}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}

func TestDecodeMessagePackHAR(t *testing.T) {
	frame := func(typ string, opcode int, data []byte) map[string]any {
		d := string(data)
		if opcode == 2 {
			d = base64.StdEncoding.EncodeToString(data)
		}
		return map[string]any{"type": typ, "time": 1732800000.5, "opcode": opcode, "data": d}
	}
	inv := mpRecord(t, protocol.NewInvocation("newMessage", json.RawMessage(`["hi"]`)))
	har := map[string]any{"log": map[string]any{"entries": []any{map[string]any{
		"request": map[string]any{"url": "ws://127.0.0.1:8888/client/?hub=chat&id=x&access_token=SECRET"},
		"_webSocketMessages": []any{
			frame("send", 1, []byte(`{"protocol":"messagepack","version":1}`+"\x1e")),
			frame("receive", 1, []byte("{}\x1e")),
			// A record split across two binary frames.
			frame("receive", 2, inv[:5]),
			frame("receive", 2, append(inv[5:], mpRecord(t, protocol.NewPing())...)),
			frame("send", 2, mpRecord(t, protocol.NewPing())),
		},
	}}}}
	b, _ := json.Marshal(har)
	out, failed := decode(t, bytes.NewReader(b), true, Options{Protocol: protocol.ProtocolMessagePack})
	wantFailed(t, failed, false)
	const ts = `"time":"2024-11-28T13:20:00.500000000Z"`
	want := lines(
		`{`+ts+`,"event":"handshakeRequest","direction":"send","hub":"chat","protocol":"messagepack","version":1}`,
		`{`+ts+`,"event":"handshakeResponse","direction":"receive","hub":"chat"}`,
		`{`+ts+`,"event":"invocation","direction":"receive","hub":"chat","target":"newMessage","arguments":["hi"]}`,
		`{`+ts+`,"event":"ping","direction":"receive","hub":"chat"}`,
		`{`+ts+`,"event":"ping","direction":"send","hub":"chat"}`,
	)
	if out != want {
		t.Fatalf("\n got %s\nwant %s", out, want)
	}
}
