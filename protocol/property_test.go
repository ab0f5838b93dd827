package protocol

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// gen builds random hub messages in the form AppendMessage writes, so that
// decode(encode(m)) must give m back field for field.
type gen struct{ r *rand.Rand }

var genRunes = []rune("aZ09 _-.:/\"\\\n\r\t\b\f\x00\x01\x1f\x7fé☃😀מ\u2028\uFFFD")

func (g gen) str(min int) string {
	n := min + g.r.IntN(8)
	var b strings.Builder
	for range n {
		b.WriteRune(genRunes[g.r.IntN(len(genRunes))])
	}
	return b.String()
}

func (g gen) space() string {
	return [...]string{"", "", "", " ", "\n\t", "\r\n  "}[g.r.IntN(6)]
}

// value writes a random JSON value, with random white space inside
// containers, which must survive byte for byte.
func (g gen) value(depth int) string {
	k := g.r.IntN(9)
	if depth > 3 && k >= 7 {
		k = g.r.IntN(7)
	}
	switch k {
	case 0:
		return "null"
	case 1:
		return "true"
	case 2:
		return "false"
	case 3:
		return strconv.FormatInt(g.r.Int64N(1<<53)-(1<<52), 10)
	case 4:
		return strconv.FormatFloat(g.r.NormFloat64()*1e3, 'g', -1, 64)
	case 5:
		return [...]string{"-0", "1e10", "2.5E-3", "0.0", "-1.5e+300"}[g.r.IntN(5)]
	case 6:
		return string(appendString(nil, g.str(0)))
	case 7:
		return g.array(depth + 1)
	default:
		n := g.r.IntN(4)
		var b strings.Builder
		b.WriteString("{" + g.space())
		for i := range n {
			if i > 0 {
				b.WriteString("," + g.space())
			}
			b.Write(appendString(nil, g.str(0)))
			b.WriteString(g.space() + ":" + g.space() + g.value(depth+1) + g.space())
		}
		b.WriteString("}")
		return b.String()
	}
}

func (g gen) array(depth int) string {
	n := g.r.IntN(4)
	var b strings.Builder
	b.WriteString("[" + g.space())
	for i := range n {
		if i > 0 {
			b.WriteString("," + g.space())
		}
		b.WriteString(g.value(depth) + g.space())
	}
	b.WriteString("]")
	return b.String()
}

func (g gen) headers(m *Message) {
	if g.r.IntN(2) == 0 {
		return
	}
	h := map[string]string{}
	for range 1 + g.r.IntN(3) {
		h[g.str(0)] = g.str(0)
	}
	m.Headers = EncodeHeaders(h)
	m.Fields |= FieldHeaders
}

func (g gen) streamIDs(m *Message) {
	if g.r.IntN(2) == 0 {
		return
	}
	m.StreamIDs = []string{}
	for range g.r.IntN(3) {
		m.StreamIDs = append(m.StreamIDs, g.str(0))
	}
	m.Fields |= FieldStreamIDs
}

func (g gen) message() Message {
	var m Message
	typ := MessageType(1 + g.r.IntN(10))
	if typ == 10 {
		typ = MessageType(10 + g.r.IntN(math.MaxInt32-10))
	}
	m.Type = typ
	id := func(required bool) {
		if required || g.r.IntN(2) == 0 {
			m.InvocationID = g.str(1)
			m.Fields |= FieldInvocationID
		}
	}
	switch typ {
	case TypeInvocation, TypeStreamInvocation:
		g.headers(&m)
		id(typ == TypeStreamInvocation)
		m.Target = g.str(1)
		m.Arguments = json.RawMessage(g.array(1))
		m.Fields |= FieldTarget | FieldArguments
		g.streamIDs(&m)
	case TypeStreamItem:
		g.headers(&m)
		id(true)
		m.Item = json.RawMessage(g.value(1))
		m.Fields |= FieldItem
	case TypeCompletion:
		g.headers(&m)
		id(true)
		switch g.r.IntN(3) {
		case 0:
			m.Error = g.str(1)
			m.Fields |= FieldError
		case 1:
			m.Result = json.RawMessage(g.value(1))
			m.Fields |= FieldResult
		}
	case TypeCancelInvocation:
		g.headers(&m)
		id(true)
	case TypePing:
	case TypeClose:
		if g.r.IntN(2) == 0 {
			m.Error = g.str(0) // an empty error is still an error
			m.Fields |= FieldError
		}
		if g.r.IntN(2) == 0 {
			m.AllowReconnect = true
			m.Fields |= FieldAllowReconnect
		}
	case TypeAck, TypeSequence:
		m.SequenceID = int64(g.r.Uint64())
		m.Fields |= FieldSequenceID
	default:
		// A type this version does not define keeps headers, id, target
		// and arguments.
		g.headers(&m)
		id(false)
		if g.r.IntN(2) == 0 {
			m.Target = g.str(1)
			m.Fields |= FieldTarget
		}
		if g.r.IntN(2) == 0 {
			m.Arguments = json.RawMessage(g.array(1))
			m.Fields |= FieldArguments
		}
	}
	return m
}

// TestPropertyDecodeEncode: decode(encode(m)) == m for generated messages
// of every type and field combination, in both modes, and the encoding is
// valid JSON followed by one record separator.
func TestPropertyDecodeEncode(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(7, 11))}
	seen := map[string]bool{}
	for i := range 20000 {
		m := g.message()
		seen[m.Type.String()+"/"+strconv.Itoa(int(m.Fields))] = true
		enc := AppendMessage(nil, &m)
		if enc[len(enc)-1] != RecordSeparator || strings.IndexByte(string(enc[:len(enc)-1]), RecordSeparator) >= 0 {
			t.Fatalf("#%d: %q is not one record", i, enc)
		}
		body := enc[:len(enc)-1]
		if !json.Valid(body) {
			t.Fatalf("#%d: invalid JSON %q", i, body)
		}
		for _, mode := range []Mode{Strict, Lenient} {
			got, err := ParseMessage(body, mode)
			if err != nil {
				t.Fatalf("#%d %s: ParseMessage(%q): %v", i, mode, body, err)
			}
			if !sameMessage(got, m) {
				t.Fatalf("#%d %s: ParseMessage(%q)\n got %+v\nwant %+v", i, mode, body, got, m)
			}
		}
	}
	// Every type with several field combinations was generated.
	perType := map[string]int{}
	for k := range seen {
		perType[strings.SplitN(k, "/", 2)[0]]++
	}
	for _, typ := range []string{"invocation", "streamItem", "completion", "streamInvocation", "cancelInvocation", "ping", "close", "ack", "sequence", "unknown"} {
		if perType[typ] == 0 {
			t.Errorf("no %s generated", typ)
		}
	}
	if perType["invocation"] < 8 || perType["close"] < 4 || perType["completion"] < 6 || perType["unknown"] < 16 {
		t.Errorf("too few field combinations: %v", perType)
	}
}
