package protocol_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
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

// msgpackOracleScript runs the official MessagePackHubProtocol.parseMessages
// of @microsoft/signalr-protocol-msgpack 10.0.11 on each record it reads
// (a JSON array of hex strings on stdin, each framed with its length
// prefix) and prints what happened to each, with the message's values in
// the JSON form sigr gives them (binary as $binary, extensions as $ext).
const msgpackOracleScript = `
const dir = process.argv[2];
const { MessagePackHubProtocol } = require(dir + "/node_modules/@microsoft/signalr-protocol-msgpack/dist/cjs/MessagePackHubProtocol.js");
const { NullLogger } = require(dir + "/node_modules/@microsoft/signalr/dist/cjs/Loggers.js");
const { ExtData } = require(dir + "/node_modules/@msgpack/msgpack/dist/ExtData.js");
const p = new MessagePackHubProtocol();
const inputs = JSON.parse(require("fs").readFileSync(0, "utf8"));
function frame(body) {
  const len = [];
  let n = body.length;
  do { let b = n & 0x7f; n >>= 7; if (n > 0) b |= 0x80; len.push(b); } while (n > 0);
  const out = new Uint8Array(len.length + body.length);
  out.set(len, 0); out.set(body, len.length);
  return out.buffer;
}
function norm(v, st) {
  if (v === undefined) return undefined;
  if (v instanceof Date) { st.date = true; return null; }
  if (v instanceof Uint8Array) return { "$binary": Buffer.from(v).toString("base64") };
  if (v instanceof ExtData) return { "$ext": v.type, "$binary": Buffer.from(v.data).toString("base64") };
  if (typeof v === "number") {
    if (Number.isNaN(v)) return "NaN";
    if (v === Infinity) return "Infinity";
    if (v === -Infinity) return "-Infinity";
    return v;
  }
  if (Array.isArray(v)) return v.map((x) => { const y = norm(x, st); return y === undefined ? null : y; });
  if (v !== null && typeof v === "object") {
    const o = {};
    for (const k of Object.keys(v)) o[k] = norm(v[k], st);
    return o;
  }
  return v;
}
const out = inputs.map((h) => {
  try {
    const msgs = p.parseMessages(frame(Buffer.from(h, "hex")), NullLogger.instance);
    if (msgs.length === 0) return { ok: true, n: 0 };
    const m = msgs[0], st = {};
    const r = { ok: true, n: 1, type: m.type };
    for (const k of ["target", "invocationId", "error"]) if (typeof m[k] === "string") r[k] = m[k];
    if (typeof m.sequenceId === "number") r.sequenceId = m.sequenceId;
    for (const k of ["arguments", "item", "result"]) if (m[k] !== undefined) r[k] = JSON.stringify(norm(m[k], st));
    r.date = !!st.date;
    return r;
  } catch (e) {
    return { ok: false, error: e.message, name: e.name };
  }
});
process.stdout.write(JSON.stringify(out));
`

type msgpackOracle struct {
	OK           bool     `json:"ok"`
	N            int      `json:"n"`
	Type         float64  `json:"type"`
	Target       *string  `json:"target"`
	InvocationID *string  `json:"invocationId"`
	Error        *string  `json:"error"`
	SequenceID   *float64 `json:"sequenceId"`
	Arguments    *string  `json:"arguments"`
	Item         *string  `json:"item"`
	Result       *string  `json:"result"`
	Date         bool     `json:"date"`
	ErrText      string   `json:"-"`
	Name         string   `json:"name"`
}

// msgpackSeeds are the records compared before mutation: the official
// vectors and invalid payloads, and values of every MessagePack format.
func msgpackSeeds(t *testing.T) [][]byte {
	var seeds [][]byte
	f := loadMsgpackFixtures(t)
	for _, v := range f.Vectors {
		b, _ := base64.StdEncoding.DecodeString(v.Base64)
		seeds = append(seeds, b)
	}
	for _, v := range f.Invalid {
		b, _ := hex.DecodeString(v.Hex)
		seeds = append(seeds, b)
	}
	for _, h := range []string{
		"950180c0aa6e65774d6573736167659183a673656e646572a5616c696365a474657874d92368656c6c6f20776f726c642c207468697320697320612063686174206d657373616765a27473cf0000019372edb000",
		"950381a5726f757465aa757365723a616c696365a131039ac0c2c3ff7fcc80cd0100ce00010000cf0000000100000000d080d18000",
		"950380a13103dc0003ca3fc00000cb400921fb54442d18c403010203",
		"950380a13103d40501", "950380a13103d6ff00000001", "950380a13103d7ff0000000100000000",
		"950380a13103c70cff000003e8000000000000000a", "950380a1310382012aa1780b",
		"960180a3616263a16d91de0001a16180dd000000019192a378797aa3616263",
		"9208cf0000000100000000", "9209d3ffffffffffffffff", "9307a0c3", "9307c0c2", "910a", "92cb3ff0000000000000",
		"c0", "80", "90", "a0", "2a", "c1", "91c1",
	} {
		b, _ := hex.DecodeString(h)
		seeds = append(seeds, b)
	}
	return seeds
}

// TestMessagePackMatchesOfficialClient runs the official TypeScript
// MessagePack parser under Node on the seeds and thousands of
// deterministic mutations of them, and checks that lenient mode accepts
// and rejects the same records with the same error texts, and reads the
// same type, strings and values from what both accept.
func TestMessagePackMatchesOfficialClient(t *testing.T) {
	dir := nodetest.Require(t)
	seeds := msgpackSeeds(t)
	inputs := append([][]byte(nil), seeds...)
	rng := rand.New(rand.NewPCG(3, 4))
	interesting := []byte{0x00, 0x01, 0x02, 0x03, 0x05, 0x07, 0x2a, 0x7f, 0x80, 0x81, 0x8f, 0x90, 0x91, 0x95, 0x9f,
		0xa0, 0xa1, 0xa3, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc7, 0xca, 0xcb, 0xcc, 0xcd, 0xcf, 0xd0, 0xd3,
		0xd4, 0xd6, 0xd7, 0xd9, 0xda, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff, 'a', 'x'}
	for range 4000 {
		b := bytes.Clone(seeds[rng.IntN(len(seeds))])
		for range 1 + rng.IntN(3) {
			switch op := rng.IntN(3); {
			case op == 0 && len(b) > 0:
				i := rng.IntN(len(b))
				b = append(b[:i], b[i+1:]...)
			case op == 1:
				i := rng.IntN(len(b) + 1)
				b = append(b[:i], append([]byte{interesting[rng.IntN(len(interesting))]}, b[i:]...)...)
			case len(b) > 0:
				b[rng.IntN(len(b))] = interesting[rng.IntN(len(interesting))]
			}
		}
		inputs = append(inputs, b)
	}

	script := filepath.Join(t.TempDir(), "oracle.cjs")
	if err := os.WriteFile(script, []byte(msgpackOracleScript), 0o600); err != nil {
		t.Fatal(err)
	}
	hexes := make([]string, len(inputs))
	for i, b := range inputs {
		hexes[i] = hex.EncodeToString(b)
	}
	in, _ := json.Marshal(hexes)
	cmd := exec.Command("node", script, dir)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	var raw []map[string]any
	var results []msgpackOracle
	if err := json.Unmarshal(out, &results); err != nil || len(results) != len(inputs) {
		t.Fatalf("oracle output: %v (%d results for %d inputs)", err, len(results), len(inputs))
	}
	_ = json.Unmarshal(out, &raw)

	failures, compared := 0, 0
	for i, rec := range inputs {
		want := results[i]
		if e, ok := raw[i]["error"].(string); ok {
			want.ErrText = e
		}
		m, err := protocol.ParseMessagePack(rec, protocol.Lenient)
		// The TS client ignores types 4 and 5 (a server never sends them);
		// sigr decodes them with rules of its own.
		if want.OK && want.N == 0 && (m.Type == protocol.TypeStreamInvocation || m.Type == protocol.TypeCancelInvocation) {
			continue
		}
		var problem string
		switch {
		case err == nil && !want.OK:
			problem = "sigr accepted, official client threw " + want.Name + ": " + want.ErrText
		case err != nil && want.OK:
			problem = "sigr rejected with " + err.Error() + ", official client accepted"
		case err != nil && err.Error() != want.ErrText:
			problem = "text differs: sigr " + err.Error() + ", official " + want.ErrText
		case err == nil && want.N == 0 && m.Type.Known():
			problem = "official client ignored it, sigr gave a known type"
		case err == nil && want.N == 1:
			compared++
			problem = compareMsgpack(t, &m, &want)
		}
		if problem != "" {
			failures++
			if failures <= 20 {
				t.Errorf("record %x: %s", rec, problem)
			}
		}
	}
	if failures > 0 {
		t.Fatalf("%d of %d records differ from the official client", failures, len(inputs))
	}
	t.Logf("%d records agree with @microsoft/signalr-protocol-msgpack 10.0.11 (%d accepted by both and compared field by field)", len(inputs), compared)
}

func compareMsgpack(t *testing.T, m *protocol.Message, w *msgpackOracle) string {
	if float64(m.Type) != w.Type {
		return "type differs"
	}
	str := func(name string, has bool, got string, want *string) string {
		if want == nil && !has || want != nil && has && (*want == got || !utf8.ValidString(got)) {
			// Invalid UTF-8 is decoded differently by the client's own
			// decoder; sigr keeps the bytes and shows U+FFFD.
			return ""
		}
		// The client keeps an empty invocation id of an Invocation as
		// none; sigr does the same only through the check below.
		if name == "invocationId" && want != nil && *want == "" && !has {
			return ""
		}
		return name + " differs"
	}
	if p := str("target", m.Has(protocol.FieldTarget), m.Target, w.Target); p != "" {
		return p
	}
	if p := str("invocationId", m.Has(protocol.FieldInvocationID), m.InvocationID, w.InvocationID); p != "" {
		return p
	}
	if m.Type == protocol.TypeCompletion || m.Type == protocol.TypeClose {
		if p := str("error", m.Has(protocol.FieldError), m.Error, w.Error); p != "" {
			return p
		}
	}
	if w.SequenceID != nil && !math.IsNaN(*w.SequenceID) && math.Abs(*w.SequenceID) < 1<<53 {
		if !m.Has(protocol.FieldSequenceID) || float64(m.SequenceID) != math.Trunc(*w.SequenceID) {
			return "sequenceId differs"
		}
	}
	if w.Date {
		return ""
	}
	for _, v := range []struct {
		name string
		got  []byte
		want *string
	}{{"arguments", m.Arguments, w.Arguments}, {"item", m.Item, w.Item}, {"result", m.Result, w.Result}} {
		if v.want == nil || v.got == nil || strings.Contains(string(v.got), "\uFFFD") {
			continue
		}
		var a, b any
		if json.Unmarshal(v.got, &a) != nil || json.Unmarshal([]byte(*v.want), &b) != nil {
			return v.name + " is not JSON"
		}
		if !sameValue(a, b) {
			return v.name + " differs: sigr " + string(v.got) + ", official " + *v.want
		}
	}
	return ""
}

// sameValue compares decoded JSON, numbers within float 32 precision (a
// float 32 is shown at its own precision by sigr and widened by
// JavaScript) and keys that are numbers by value.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || math.Abs(x-y) <= 1e-6*math.Max(math.Abs(x), math.Abs(y)))
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !sameValue(x[i], y[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok {
				return numericKeyMatch(k, v, y)
			}
			if !sameValue(v, w) {
				return false
			}
		}
		return true
	}
	return a == b
}

func numericKeyMatch(k string, v any, y map[string]any) bool {
	var f float64
	if json.Unmarshal([]byte(k), &f) != nil {
		return false
	}
	for k2, w := range y {
		var g float64
		if json.Unmarshal([]byte(k2), &g) == nil && sameValue(f, g) && sameValue(v, w) {
			return true
		}
	}
	return false
}
