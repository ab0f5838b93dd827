package protocol

import (
	"fmt"
	"math"
	"strconv"
)

// Mode selects which official parser's validation rules ParseMessage
// applies. Framing is the same in both: records split across reads are
// always reassembled by Framer.
type Mode int

const (
	// Lenient applies the rules of the official TypeScript client
	// (@microsoft/signalr 10.0.11): the whole record must be valid JSON,
	// then only the fields a client relies on are checked, with its error
	// texts ("Invalid payload for Invocation message.").
	Lenient Mode = iota
	// Strict applies the rules of the .NET JsonHubProtocol and reports the
	// first problem in document order with the exact .NET error text
	// ("Missing required property 'target'.").
	Strict
)

// String returns "lenient" or "strict".
func (m Mode) String() string {
	if m == Strict {
		return "strict"
	}
	return "lenient"
}

// strictMaxDepth is System.Text.Json's default JsonReaderOptions.MaxDepth.
const strictMaxDepth = 64

// lenientMaxDepth bounds nesting in lenient mode. V8 itself allows more,
// but a monitor must not be made to walk a document nested a million deep.
const lenientMaxDepth = 1000

// ProtocolError is a record that does not follow the hub protocol. Its text
// is the official parser's message with nothing added, so that it can be
// shown, compared and logged as is.
type ProtocolError struct {
	Text string
}

func (e *ProtocolError) Error() string { return e.Text }

func perr(text string) error { return &ProtocolError{Text: text} }

const errReadingJSON = "Error reading JSON."

// ParseMessage decodes one record (without its 0x1E) into a Message. The
// Message aliases record: Arguments, Headers, Item and Result are
// sub-slices of it, so copy the record first if its buffer will be reused.
// A message of a type this protocol does not define comes back with its
// Type and no error: both official parsers ignore such messages so that
// the protocol can grow, and a monitor wants to show them.
func ParseMessage(record []byte, mode Mode) (m Message, err error) {
	// Named results: the message is built in place, not copied out.
	var p parser
	err = p.parse(record, mode, &m)
	return m, err
}

type parser struct {
	s scanner

	// What the member loop saw; lenient checks them after the whole record
	// was validated, as JSON.parse comes before the TS checks.
	typeKind      valueKind
	typeInt       bool
	invIDKind     valueKind
	targetKind    valueKind
	errorKind     valueKind
	resultTruthy  bool
	errorTruthy   bool
	seqKind       valueKind
	hasType       bool
	hasInvID      bool
	hasTarget     bool
	hasArguments  bool
	hasItem       bool
	hasResult     bool
	hasError      bool
	hasSequenceID bool
	strEsc        bool // the last string scalar read holds escapes
}

func (p *parser) parse(record []byte, mode Mode, m *Message) error {
	strict := mode == Strict
	p.s.reset(record, lenientMaxDepth)
	p.s.strict = strict
	if strict {
		p.s.maxDepth = strictMaxDepth
	}
	s := &p.s
	kind := s.peekKind()
	if kind != kindObject {
		return p.notObject(kind, mode)
	}
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
	} else {
		for {
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return p.syntax(mode)
			}
			// The name and its colon, scanned with a local index.
			j, nesc, msg := stringEnd(record, s.pos+1, s.stopTable())
			if msg != "" {
				s.pos = j
				return p.syntax(mode)
			}
			name := record[s.pos+1 : j-1]
			j = skipWS(record, j)
			if j >= len(record) || record[j] != ':' {
				s.pos = j
				return p.syntax(mode)
			}
			s.pos = j + 1
			var key string
			if nesc {
				key = memberKey([]byte(unescape(name)))
			} else {
				key = memberKey(name)
			}
			if err := p.member(key, m, strict); err != nil {
				return err
			}
			done, err := p.commaOrEnd('}', mode)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	if !strict {
		// JSON.parse rejects anything but white space after the value;
		// the .NET reader stops at the closing brace and never looks.
		s.skipSpace()
		if s.pos != len(s.data) {
			return p.syntax(mode)
		}
	}
	if strict {
		return p.checkStrict(m)
	}
	return p.checkLenient(m)
}

// memberKey returns the protocol's own spelling of a member name it knows
// and "" for any other, so that member switches on a constant string and
// the name is never converted (switch on string(b) does not copy).
func memberKey(name []byte) string {
	switch string(name) {
	case "type":
		return "type"
	case "invocationId":
		return "invocationId"
	case "target":
		return "target"
	case "arguments":
		return "arguments"
	case "error":
		return "error"
	case "item":
		return "item"
	case "result":
		return "result"
	case "headers":
		return "headers"
	case "streamIds":
		return "streamIds"
	case "allowReconnect":
		return "allowReconnect"
	case "sequenceId":
		return "sequenceId"
	}
	return ""
}

// member handles one top-level member whose name is key; the cursor is at
// its value.
func (p *parser) member(key string, m *Message, strict bool) error {
	s := &p.s
	switch key {
	case "type":
		kind, start, err := p.scalar(strict)
		if err != nil {
			return err
		}
		p.hasType = true
		p.typeKind = kind
		if kind == kindObject || kind == kindArray {
			if strict {
				return perr("Expected 'type' to be of type Number.")
			}
			return p.skipRest(start)
		}
		if kind != kindNumber {
			if strict {
				return perr("Expected 'type' to be of type Number.")
			}
			return nil
		}
		n, ok := parseInt(s.data[start:s.pos])
		if !ok && !strict {
			// JSON.parse gives the number 1 for 1.0 or 1e0 too.
			n, ok = integralFloat(s.data[start:s.pos])
		}
		p.typeInt = ok && n >= math.MinInt32 && n <= math.MaxInt32
		if strict && !p.typeInt {
			return perr("Expected 'type' to be of type Number.")
		}
		if p.typeInt {
			m.Type = MessageType(n)
		} else {
			m.Type = 0
		}
	case "invocationId", "target", "error":
		kind, start, err := p.scalar(strict)
		if err != nil {
			return err
		}
		switch key {
		case "invocationId":
			p.hasInvID, p.invIDKind = true, kind
		case "target":
			p.hasTarget, p.targetKind = true, kind
		default:
			p.hasError, p.errorKind = true, kind
			p.errorTruthy = truthy(kind, s.data[start:s.pos])
		}
		if kind == kindObject || kind == kindArray {
			if strict {
				return perr("Expected '" + key + "' to be of type String.")
			}
			return p.skipRest(start)
		}
		if kind == kindNull && !strict {
			// TS keeps the null and then fails its non-empty-string
			// checks, which checkLenient applies. .NET's ReadAsString
			// rejects it like any other non-string token.
			clearString(m, key)
			return nil
		}
		if kind != kindString {
			if strict {
				return perr("Expected '" + key + "' to be of type String.")
			}
			clearString(m, key)
			return nil
		}
		// scalar noted whether the string holds escapes, so most values
		// are copied without a second look; targets repeat, so they are
		// interned.
		raw := s.data[start+1 : s.pos-1]
		switch key {
		case "invocationId":
			m.InvocationID = decodeName(raw, p.strEsc)
			m.Fields |= FieldInvocationID
		case "target":
			if p.strEsc {
				m.Target = unescape(raw)
			} else {
				m.Target = internString(raw)
			}
			m.Fields |= FieldTarget
		default:
			m.Error = decodeName(raw, p.strEsc)
			m.Fields |= FieldError
		}
	case "allowReconnect":
		kind, start, err := p.scalar(strict)
		if err != nil {
			return err
		}
		switch kind {
		case kindTrue, kindFalse:
			m.AllowReconnect = kind == kindTrue
			m.Fields |= FieldAllowReconnect
		case kindObject, kindArray:
			if strict {
				return perr("Expected 'allowReconnect' to be true or false.")
			}
			return p.skipRest(start)
		default:
			if strict {
				return perr("Expected 'allowReconnect' to be true or false.")
			}
		}
	case "sequenceId":
		kind, start, err := p.scalar(strict)
		if err != nil {
			return err
		}
		p.hasSequenceID, p.seqKind = true, kind
		if kind == kindNull && strict {
			// .NET's ReadAsInt64 returns null for a null token: the
			// property counts as absent.
			m.SequenceID = 0
			m.Fields &^= FieldSequenceID
			return nil
		}
		if kind == kindObject || kind == kindArray {
			if strict {
				return perr("Expected 'sequenceId' to be of type Number.")
			}
			return p.skipRest(start)
		}
		if kind != kindNumber {
			if strict {
				return perr("Expected 'sequenceId' to be of type Number.")
			}
			return nil
		}
		n, ok := parseInt(s.data[start:s.pos])
		if !ok {
			if strict {
				return perr("Expected 'sequenceId' to be of type Number.")
			}
			f, _ := strconv.ParseFloat(string(s.data[start:s.pos]), 64)
			n = int64(f)
		}
		m.SequenceID = n
		m.Fields |= FieldSequenceID
	case "arguments":
		kind, start, err := p.scalar(strict)
		if err != nil {
			return err
		}
		if kind != kindArray && strict {
			return perr("Expected 'arguments' to be of type Array.")
		}
		if err := p.skipRest(start); err != nil {
			return err
		}
		p.hasArguments = true
		m.Arguments = s.data[start:s.pos]
		m.Fields |= FieldArguments
	case "item", "result":
		kind := s.peekKind()
		start := s.pos
		if err := s.skipValue(1); err != nil {
			return p.syntax(modeOf(strict))
		}
		raw := s.data[start:s.pos]
		if key == "item" {
			p.hasItem = true
			m.Item = raw
			m.Fields |= FieldItem
		} else {
			p.hasResult = true
			p.resultTruthy = truthy(kind, raw)
			m.Result = raw
			m.Fields |= FieldResult
		}
	case "headers":
		return p.headers(m, strict)
	case "streamIds":
		return p.streamIDs(m, strict)
	default:
		if err := s.skipValue(1); err != nil {
			return p.syntax(modeOf(strict))
		}
	}
	return nil
}

func clearString(m *Message, key string) {
	switch key {
	case "invocationId":
		m.InvocationID = ""
		m.Fields &^= FieldInvocationID
	case "target":
		m.Target = ""
		m.Fields &^= FieldTarget
	default:
		m.Error = ""
		m.Fields &^= FieldError
	}
}

func modeOf(strict bool) Mode {
	if strict {
		return Strict
	}
	return Lenient
}

// scalar looks at the value at the cursor. A scalar is consumed (and
// validated, as the .NET reader reads a whole token before its type is
// checked); for an object or array only the kind is reported and the
// cursor stays at its start, because .NET rejects a wrong container type
// before reading into it.
func (p *parser) scalar(strict bool) (valueKind, int, error) {
	s := &p.s
	data := s.data
	start := skipWS(data, s.pos)
	s.pos = start
	if start >= len(data) {
		return kindInvalid, start, p.syntax(modeOf(strict))
	}
	var kind valueKind
	switch c := data[start]; c {
	case '{':
		return kindObject, start, nil
	case '[':
		return kindArray, start, nil
	case '"':
		j, esc, msg := stringEnd(data, start+1, s.stopTable())
		s.pos = j
		if msg != "" {
			return kindString, start, p.syntax(modeOf(strict))
		}
		p.strEsc = esc
		return kindString, start, nil
	case 't', 'f', 'n':
		lit := "null"
		kind = kindNull
		if c == 't' {
			lit, kind = "true", kindTrue
		} else if c == 'f' {
			lit, kind = "false", kindFalse
		}
		if len(data)-start < len(lit) || string(data[start:start+len(lit)]) != lit {
			return kind, start, p.syntax(modeOf(strict))
		}
		s.pos = start + len(lit)
		return kind, start, nil
	default:
		if c != '-' && c-'0' >= 10 {
			return kindInvalid, start, p.syntax(modeOf(strict))
		}
		j, ok := numberEnd(data, start)
		s.pos = j
		if !ok {
			return kindNumber, start, p.syntax(modeOf(strict))
		}
		return kindNumber, start, nil
	}
}

// commaOrEnd consumes what follows a member or an element: a comma, or the
// closing byte of its container, in which case done is true.
func (p *parser) commaOrEnd(closing byte, mode Mode) (done bool, err error) {
	s := &p.s
	s.skipSpace()
	if s.pos >= len(s.data) {
		return false, p.syntax(mode)
	}
	switch s.data[s.pos] {
	case closing:
		s.pos++
		return true, nil
	case ',':
		s.pos++
		return false, nil
	}
	return false, p.syntax(mode)
}

// skipRest consumes a container whose start scalar left at the cursor.
func (p *parser) skipRest(start int) error {
	p.s.pos = start
	if err := p.s.skipValue(1); err != nil {
		return p.syntax(modeOf(p.s.strict))
	}
	return nil
}

func (p *parser) headers(m *Message, strict bool) error {
	s := &p.s
	kind, start, err := p.scalar(strict)
	if err != nil {
		return err
	}
	if kind != kindObject {
		if strict {
			return perr("Expected 'headers' to be of type StartObject.")
		}
		if kind == kindArray {
			return p.skipRest(start)
		}
		return nil
	}
	if !strict {
		if err := p.skipRest(start); err != nil {
			return err
		}
		m.Headers = s.data[start:s.pos]
		m.Fields |= FieldHeaders
		return nil
	}
	// Strict: each value must be a string, checked in document order.
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
	} else {
		for {
			s.skipSpace()
			if s.pos >= len(s.data) || s.data[s.pos] != '"' {
				return p.syntax(Strict)
			}
			ns, ne, nesc, err := s.scanString()
			if err != nil {
				return p.syntax(Strict)
			}
			if err := s.colon(); err != nil {
				return p.syntax(Strict)
			}
			vkind, _, err := p.scalar(true)
			if err != nil {
				return err
			}
			if vkind != kindString {
				return perr("Expected header '" + decodeName(s.data[ns:ne], nesc) + "' to be of type String.")
			}
			done, err := p.commaOrEnd('}', Strict)
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	m.Headers = s.data[start:s.pos]
	m.Fields |= FieldHeaders
	return nil
}

func (p *parser) streamIDs(m *Message, strict bool) error {
	s := &p.s
	kind, start, err := p.scalar(strict)
	if err != nil {
		return err
	}
	if kind != kindArray {
		if strict {
			return perr("Expected 'streamIds' to be of type Array.")
		}
		if kind == kindObject {
			return p.skipRest(start)
		}
		return nil
	}
	ids := m.StreamIDs[:0]
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
	} else {
		for {
			vkind, vstart, err := p.scalar(strict)
			if err != nil {
				return err
			}
			switch vkind {
			case kindString:
				ids = append(ids, decodeStringValue(s.data[vstart:s.pos]))
			case kindNull:
				if strict {
					return perr("Null value for 'streamIds' is not valid.")
				}
			case kindObject, kindArray:
				if strict {
					return perr("Expected 'streamIds' to be of type String.")
				}
				if err := p.skipRest(vstart); err != nil {
					return err
				}
			default:
				if strict {
					return perr("Expected 'streamIds' to be of type String.")
				}
			}
			done, err := p.commaOrEnd(']', modeOf(strict))
			if err != nil {
				return err
			}
			if done {
				break
			}
		}
	}
	m.StreamIDs = ids
	m.Fields |= FieldStreamIDs
	return nil
}

// notObject reports a record that is not a JSON object.
func (p *parser) notObject(kind valueKind, mode Mode) error {
	s := &p.s
	if kind == kindInvalid {
		return p.syntax(mode)
	}
	if mode == Strict {
		if kind != kindArray {
			// The reader reads the whole first token before its type is
			// looked at, so a broken scalar is a JSON error.
			if _, _, err := p.scalar(true); err != nil {
				return err
			}
		}
		return perr("Unexpected JSON Token Type '" + kind.tokenName() + "'. Expected a JSON Object.")
	}
	if err := s.skipValue(0); err != nil {
		return p.syntax(mode)
	}
	s.skipSpace()
	if s.pos != len(s.data) {
		return p.syntax(mode)
	}
	if kind == kindNull {
		// The TS client reads `.type` of what JSON.parse returned, which
		// throws V8's TypeError for null.
		return perr("Cannot read properties of null (reading 'type')")
	}
	return perr("Invalid payload.")
}

// syntax reports malformed JSON at the cursor: .NET wraps every reader
// failure as "Error reading JSON."; TS surfaces V8's JSON.parse error,
// which this imitates in its common forms.
func (p *parser) syntax(mode Mode) error {
	if mode == Strict {
		return perr(errReadingJSON)
	}
	s := &p.s
	if s.pos >= len(s.data) {
		return perr("Unexpected end of JSON input")
	}
	c := s.data[s.pos]
	tok := string(rune(c))
	if c < 0x20 || c >= 0x7f {
		tok = fmt.Sprintf("\\x%02x", c)
	}
	return perr(fmt.Sprintf("Unexpected token '%s' in JSON at position %d", tok, s.pos))
}

func (p *parser) checkStrict(m *Message) error {
	if !p.hasType || p.typeKind == kindNull {
		return perr("Missing required property 'type'.")
	}
	switch m.Type {
	case TypeInvocation:
		if m.Target == "" {
			return perr("Missing required property 'target'.")
		}
		if !p.hasArguments {
			return perr("Missing required property 'arguments'.")
		}
		if m.InvocationID == "" {
			m.Fields &^= FieldInvocationID
		}
	case TypeStreamItem:
		if m.InvocationID == "" {
			return perr("Missing required property 'invocationId'.")
		}
		if !p.hasItem {
			return perr("Missing required property 'item'.")
		}
	case TypeCompletion:
		if m.InvocationID == "" {
			return perr("Missing required property 'invocationId'.")
		}
		if m.Has(FieldError) && p.hasResult {
			return perr("The 'error' and 'result' properties are mutually exclusive.")
		}
	case TypeStreamInvocation:
		if m.InvocationID == "" {
			return perr("Missing required property 'invocationId'.")
		}
		if !p.hasArguments {
			return perr("Missing required property 'arguments'.")
		}
		if m.Target == "" {
			return perr("Missing required property 'target'.")
		}
	case TypeCancelInvocation:
		if m.InvocationID == "" {
			return perr("Missing required property 'invocationId'.")
		}
	case TypeAck, TypeSequence:
		if !m.Has(FieldSequenceID) {
			return perr("Missing required property 'sequenceId'.")
		}
	}
	return nil
}

func (p *parser) checkLenient(m *Message) error {
	if !p.hasType || p.typeKind != kindNumber {
		return perr("Invalid payload.")
	}
	nonEmpty := func(has bool, kind valueKind, v string) bool {
		return has && kind == kindString && v != ""
	}
	switch m.Type {
	case TypeInvocation:
		if !nonEmpty(p.hasTarget, p.targetKind, m.Target) ||
			p.hasInvID && !nonEmpty(true, p.invIDKind, m.InvocationID) {
			return perr("Invalid payload for Invocation message.")
		}
	case TypeStreamItem:
		if !nonEmpty(p.hasInvID, p.invIDKind, m.InvocationID) || !p.hasItem {
			return perr("Invalid payload for StreamItem message.")
		}
	case TypeCompletion:
		if p.resultTruthy && p.errorTruthy ||
			!p.resultTruthy && p.errorTruthy && !nonEmpty(true, p.errorKind, m.Error) ||
			!nonEmpty(p.hasInvID, p.invIDKind, m.InvocationID) {
			return perr("Invalid payload for Completion message.")
		}
	case TypeStreamInvocation:
		// The TS client never expects this from a server and ignores it;
		// sigr decodes it and applies the Invocation rules, id required.
		if !nonEmpty(p.hasTarget, p.targetKind, m.Target) || !nonEmpty(p.hasInvID, p.invIDKind, m.InvocationID) {
			return perr("Invalid payload for StreamInvocation message.")
		}
	case TypeCancelInvocation:
		if !nonEmpty(p.hasInvID, p.invIDKind, m.InvocationID) {
			return perr("Invalid payload for CancelInvocation message.")
		}
	case TypeAck:
		if p.seqKind != kindNumber {
			return perr("Invalid SequenceId for Ack message.")
		}
	case TypeSequence:
		if p.seqKind != kindNumber {
			return perr("Invalid SequenceId for Sequence message.")
		}
	}
	return nil
}

// truthy is JavaScript truthiness of a raw JSON value, which the TS
// Completion check relies on (`result && error`).
func truthy(kind valueKind, raw []byte) bool {
	switch kind {
	case kindNull, kindFalse, kindInvalid:
		return false
	case kindString:
		return len(raw) > 2
	case kindNumber:
		f, err := strconv.ParseFloat(string(raw), 64)
		return err != nil || (f != 0 && !math.IsNaN(f))
	}
	return true
}

// integralFloat parses a JSON number with a fraction or exponent and
// reports whether its value is a whole number that fits an int64.
func integralFloat(b []byte) (int64, bool) {
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// parseInt parses a JSON number that is an integer without exponent or
// fraction, as .NET's GetInt32/GetInt64 accept.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	neg := b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	if neg {
		if n > 1<<63 {
			return 0, false
		}
		return -int64(n), true
	}
	if n > math.MaxInt64 {
		return 0, false
	}
	return int64(n), true
}
