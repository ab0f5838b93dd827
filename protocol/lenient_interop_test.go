package protocol_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sigr-dev/sigr/internal/nodetest"
	"github.com/sigr-dev/sigr/protocol"
)

// oracleScript runs the official JsonHubProtocol.parseMessages of
// @microsoft/signalr 10.0.11 on each record it reads (a JSON array of
// strings on stdin) and prints what happened to each.
const oracleScript = `
const dir = process.argv[2];
const { JsonHubProtocol } = require(dir + "/node_modules/@microsoft/signalr/dist/cjs/JsonHubProtocol.js");
const { NullLogger } = require(dir + "/node_modules/@microsoft/signalr/dist/cjs/Loggers.js");
const p = new JsonHubProtocol();
const inputs = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = inputs.map((rec) => {
  try {
    const msgs = p.parseMessages(rec + "\x1e", NullLogger.instance);
    return { ok: true, n: msgs.length, type: msgs.length ? msgs[0].type : 0 };
  } catch (e) {
    return { ok: false, error: e.message, name: e.name };
  }
});
process.stdout.write(JSON.stringify(out));
`

type oracleResult struct {
	OK    bool    `json:"ok"`
	N     int     `json:"n"`
	Type  float64 `json:"type"`
	Error string  `json:"error"`
	Name  string  `json:"name"`
}

// lenientSeeds are records the lenient parser is compared on, before
// mutation: the official vectors and the shapes sigr meets in practice.
var lenientSeeds = []string{
	`{"type":1,"invocationId":"123","target":"Target","arguments":[1,"Foo"]}`,
	`{"type":1,"target":"Target","arguments":[true]}`,
	`{"type":1,"target":"Target","arguments":[],"streamIds":["__test_id__"]}`,
	`{"type":1,"target":"Method","arguments":["מחרוזת כלשהי"]}`,
	`{"type":2,"invocationId":"123","item":null}`,
	`{"type":3,"invocationId":"123","result":1}`,
	`{"type":3,"invocationId":"123","error":"Whoops!"}`,
	`{"type":3,"invocationId":"123"}`,
	`{"type":3,"headers":{"Foo":"Bar","KeyWith\nNew\r\nLines":"Still Works"},"invocationId":"123","error":"Whoops!"}`,
	`{"type":5,"invocationId":"123"}`,
	`{"type":6}`,
	`{"type":7,"error":"Error!","allowReconnect":true}`,
	`{"type":8,"sequenceId":1394}`,
	`{"type":9,"sequenceId":1}`,
	`{ "arguments": [1,2], "type":1, "target": "Method" }`,
	`{ "type":3, "result": 10, "invocationId": "15" }`,
	`{"type":3, "invocationId": "abc", "error": "Err", "result": null, "headers": {}}`,
	`{"type":3,"invocationId":"1","result":0,"error":"e"}`,
	`{"type":3,"invocationId":"1","result":2,"error":"error"}`,
	`{"type":3,"invocationId":"1","error":21}`,
	`{"type":3,"invocationId":"1","result":"","error":""}`,
	`{"type":3,"invocationId":"1","result":false,"error":[]}`,
	`{"type":1,"invocationId":"","target":"method"}`,
	`{"type":1,"invocationId":null,"target":"m"}`,
	`{"type":1,"target":"m"}`,
	`{"type":2,"invocationId":"1"}`,
	`{"type":8,"sequenceId":"5"}`,
	`{"type":8,"sequenceId":-1.5e3}`,
	`{"type":42,"foo":1}`,
	`{"type":1.0,"target":"m"}`,
	`{"type":1.5}`,
	`{"type":-0}`,
	`{"type":"1"}`,
	`{"type":null}`,
	`{"type":true}`,
	`{"type":[1]}`,
	`{"type":1,"type":2,"invocationId":"a","item":1}`,
	`{"type":2,"invocationId":"a","invocationId":null,"item":1}`,
	`[1]`, `null`, `42`, `"foo"`, `true`, `{}`, ``, ` `,
	`{"type":1,"target":"newMessage","arguments":[{"sender":"alice","text":"hello world, this is a chat message","ts":1732800000000}]}`,
	`{"type":1,"target":"a\u0062","arguments":["\ud83d\ude00","\ud800"]}`,
	`{"type":6} `,
	`{"type":6} x`,
}

// TestLenientMatchesOfficialClient runs the official TypeScript parser
// under Node on the seeds and thousands of deterministic mutations of them,
// and checks that lenient mode accepts and rejects the same records, with
// the same text for every error that is not a JSON SyntaxError (whose
// wording belongs to the JavaScript engine).
func TestLenientMatchesOfficialClient(t *testing.T) {
	dir := nodetest.Require(t)
	inputs := append([]string(nil), lenientSeeds...)
	inputs = append(inputs, protocol.MalformedInputs()...)
	rng := rand.New(rand.NewPCG(1, 2))
	const alphabet = `{}[]",:01-.e tnfru\/"ab`
	for range 3000 {
		b := []byte(lenientSeeds[rng.IntN(len(lenientSeeds))])
		for range 1 + rng.IntN(3) {
			switch op := rng.IntN(3); {
			case op == 0 && len(b) > 0:
				i := rng.IntN(len(b))
				b = append(b[:i], b[i+1:]...)
			case op == 1:
				i := rng.IntN(len(b) + 1)
				b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			case len(b) > 0:
				b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		if utf8.Valid(b) && bytes.IndexByte(b, protocol.RecordSeparator) < 0 {
			inputs = append(inputs, string(b))
		}
	}

	script := filepath.Join(t.TempDir(), "oracle.cjs")
	if err := os.WriteFile(script, []byte(oracleScript), 0o600); err != nil {
		t.Fatal(err)
	}
	in, _ := json.Marshal(inputs)
	cmd := exec.Command("node", script, dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var results []oracleResult
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(inputs) {
		t.Fatalf("oracle output: %v (%d results for %d inputs)", err, len(results), len(inputs))
	}

	failures := 0
	for i, rec := range inputs {
		want := results[i]
		m, err := protocol.ParseMessage([]byte(rec), protocol.Lenient)
		// The TS client ignores types 4 and 5 (a server never sends them);
		// sigr decodes them with rules of its own.
		if want.OK && want.N == 0 && (m.Type == protocol.TypeStreamInvocation || m.Type == protocol.TypeCancelInvocation) {
			continue
		}
		var problem string
		switch {
		case err == nil && !want.OK:
			problem = "sigr accepted, official client threw " + want.Name + ": " + want.Error
		case err == nil && want.N == 1 && float64(m.Type) != want.Type:
			problem = "type differs"
		case err == nil && want.N == 0 && m.Type.Known():
			problem = "official client ignored it, sigr gave a known type"
		case err != nil && want.OK:
			problem = "sigr rejected with " + err.Error() + ", official client accepted"
		case err != nil && want.Name != "SyntaxError" && err.Error() != want.Error:
			problem = "text differs: sigr " + err.Error() + ", official " + want.Error
		case err != nil && want.Name == "SyntaxError" && isProtocolText(err.Error()):
			problem = "official client saw bad JSON, sigr said " + err.Error()
		}
		if problem != "" {
			failures++
			if failures <= 20 {
				t.Errorf("record %q: %s", rec, problem)
			}
		}
	}
	if failures > 0 {
		t.Fatalf("%d of %d records differ from the official client", failures, len(inputs))
	}
	t.Logf("%d records agree with @microsoft/signalr 10.0.11", len(inputs))
}

func isProtocolText(s string) bool {
	for _, p := range []string{"Invalid payload", "Invalid SequenceId", "Missing required", "Expected '", "Cannot read"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
