package protocol

import (
	"math"
	"strconv"

	"github.com/tinylib/msgp/msgp"
)

// ProtocolName is the name a client puts in its handshake for each hub
// protocol.
const (
	ProtocolJSON        = "json"
	ProtocolMessagePack = "messagepack"
)

// ParseMessagePack decodes one MessagePack hub message (the body of one
// length-prefixed record, without its prefix) into the Message the JSON
// codec fills: the message's values are converted to JSON once, here, so
// that Arguments, Item, Result and Headers hold JSON whichever protocol
// carried them, and event lines are the same for both. The Message does
// not alias record.
//
// The format's fixed positions hold values a JSON message would leave
// out: an empty headers map, an empty streamIds array, a nil error and a
// false allowReconnect are read as absent, so the two protocols give the
// same lines for the same traffic.
//
// Lenient follows the official TypeScript client
// (@microsoft/signalr-protocol-msgpack 10.0.11 on @msgpack/msgpack 2.8),
// which decodes the whole record and then checks only array lengths and
// the headers' type; Strict follows the .NET MessagePackHubProtocol,
// which reads the fields in order and names the one that failed. A
// message of a type the protocol does not define comes back with its Type
// and no error, as both ignore it.
func ParseMessagePack(record []byte, mode Mode) (m Message, err error) {
	// A block of exactly what one message needs.
	d := MessagePackDecoder{Mode: mode, block: make([]byte, 0, msgpackNeed(record))}
	return d.Parse(record)
}

// MessagePackDecoder parses MessagePack records as ParseMessagePack does,
// carving the JSON of successive messages out of shared blocks, so that a
// receive loop allocates one block per many messages rather than a buffer
// per message. Messages never write to their JSON, so they may share a
// block and outlive the decoder. The zero value decodes leniently; a
// decoder is for one goroutine.
type MessagePackDecoder struct {
	Mode  Mode
	block []byte
}

// msgpackBlock is the size of a shared block: room for the JSON of about a
// hundred chat messages.
const msgpackBlock = 16 << 10

// msgpackNeed is the room a record's JSON is given: most of it is the
// message's values, and twice the record holds them in one go.
func msgpackNeed(record []byte) int { return 2*len(record) + 16 }

// Parse decodes one record; see ParseMessagePack.
func (d *MessagePackDecoder) Parse(record []byte) (m Message, err error) {
	need := msgpackNeed(record)
	if cap(d.block)-len(d.block) < need {
		d.block = make([]byte, 0, max(need, msgpackBlock))
	}
	at := len(d.block)
	buf := d.block[at : at : at+need]
	if d.Mode == Strict {
		buf, err = parseMsgpackStrict(record, &m, buf)
	} else {
		buf, err = parseMsgpackLenient(record, &m, buf)
	}
	if err == nil && cap(buf) == need {
		// Still in the block: what the message took is no longer free.
		d.block = d.block[:at+len(buf)]
	}
	return m, err
}

// Texts of the .NET MessagePackHubProtocol.
const (
	netBindingFailed = "Error binding argument "
	netBindingAdvice = ". Make sure that the types of the provided values match the types of the hub method being invoked."
	netItemFailed    = "Deserializing object of the `Object` type for 'item' failed."
	netResultFailed  = "Deserializing object of the `Object` type for 'argument' failed."
)

// netReader reads fields in order as the .NET MessagePackHubProtocol does,
// wrapping each failure in the text of the field that failed.
type netReader struct {
	b   []byte
	buf []byte
}

// arrayHeader is MessagePackReader.ReadArrayHeader, which also refuses a
// count larger than the bytes left.
func (r *netReader) arrayHeader() (int, fault) { return r.header(false) }

// mapHeader is MessagePackReader.ReadMapHeader: two bytes per entry at
// least must be left.
func (r *netReader) mapHeader() (int, fault) { return r.header(true) }

func (r *netReader) header(isMap bool) (int, fault) {
	if len(r.b) == 0 {
		return 0, short(r.b)
	}
	lead := r.b[0]
	var n uint32
	var rest []byte
	var err error
	perEntry := 1
	if isMap {
		if !(lead >= 0x80 && lead <= 0x8f || lead == 0xde || lead == 0xdf) {
			return 0, fault{kind: faultWrongCode, code: lead}
		}
		n, rest, err = msgp.ReadMapHeaderBytes(r.b)
		perEntry = 2
	} else {
		if !(lead >= 0x90 && lead <= 0x9f || lead == 0xdc || lead == 0xdd) {
			return 0, fault{kind: faultWrongCode, code: lead}
		}
		n, rest, err = msgp.ReadArrayHeaderBytes(r.b)
	}
	if err != nil {
		return 0, short(r.b)
	}
	// .NET reads a 32-bit count as a signed int.
	count := int(int32(n))
	if len(rest) < perEntry*count {
		return 0, fault{kind: faultShortHead, code: lead}
	}
	r.b = rest
	return count, fault{}
}

// str is MessagePackReader.ReadString: nil reads as no string.
func (r *netReader) str() (s []byte, isNil bool, f fault) {
	if len(r.b) == 0 {
		return nil, false, short(r.b)
	}
	lead := r.b[0]
	if lead == 0xc0 {
		r.b = r.b[1:]
		return nil, true, fault{}
	}
	if !(lead >= 0xa0 && lead <= 0xbf || lead >= 0xd9 && lead <= 0xdb) {
		return nil, false, fault{kind: faultWrongCode, code: lead}
	}
	s, rest, err := msgp.ReadStringZC(r.b)
	if err != nil {
		return nil, false, short(r.b)
	}
	r.b = rest
	return s, false, fault{}
}

// integer is MessagePackReader.ReadInt64 (or ReadInt32 when small):
// integer formats only, within range.
func (r *netReader) integer(small bool) (int64, fault) {
	if len(r.b) == 0 {
		return 0, short(r.b)
	}
	lead := r.b[0]
	if !(lead <= 0x7f || lead >= 0xe0 || lead >= 0xcc && lead <= 0xd3) {
		return 0, fault{kind: faultWrongCode, code: lead}
	}
	if len(r.b) < mpHeadLen(lead) {
		return 0, short(r.b)
	}
	var n int64
	if lead >= 0xcc && lead <= 0xcf {
		u, rest, _ := msgp.ReadUint64Bytes(r.b)
		if u > math.MaxInt64 {
			return 0, fault{kind: faultWrongCode, code: lead}
		}
		n, r.b = int64(u), rest
	} else {
		n, r.b, _ = msgp.ReadInt64Bytes(r.b)
	}
	if small && (n < math.MinInt32 || n > math.MaxInt32) {
		return 0, fault{kind: faultWrongCode, code: lead}
	}
	return n, fault{}
}

// boolean is MessagePackReader.ReadBoolean.
func (r *netReader) boolean() (bool, fault) {
	if len(r.b) == 0 {
		return false, short(r.b)
	}
	switch r.b[0] {
	case 0xc2, 0xc3:
		v := r.b[0] == 0xc3
		r.b = r.b[1:]
		return v, fault{}
	}
	return false, fault{kind: faultWrongCode, code: r.b[0]}
}

// value converts the next value to JSON into the reader's buffer.
func (r *netReader) value() ([]byte, fault) {
	start := len(r.buf)
	buf, rest, f := mpConv{}.value(r.buf, r.b, 1)
	r.buf = buf
	if f.failed() {
		return nil, f
	}
	r.b = rest
	return r.buf[start:len(r.buf):len(r.buf)], fault{}
}

// headers reads the headers map: string keys and values, neither null nor
// empty.
func (r *netReader) headers(m *Message) error {
	n, f := r.mapHeader()
	if f.failed() {
		return perr("Reading map length for 'headers' failed.")
	}
	if n <= 0 {
		return nil
	}
	start := len(r.buf)
	r.buf = append(r.buf, '{')
	for i := range n {
		k, isNil, f := r.str()
		if f.failed() {
			return perr("Reading 'headers[" + itoa(i) + "].Key' as String failed.")
		}
		if isNil || len(k) == 0 {
			return perr("Null or empty key in header.")
		}
		v, isNil, f := r.str()
		if f.failed() {
			return perr("Reading 'headers[" + itoa(i) + "].Value' as String failed.")
		}
		if isNil || len(v) == 0 {
			return perr("Null or empty value in header.")
		}
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		r.buf = appendString(r.buf, bytesString(k))
		r.buf = append(r.buf, ':')
		r.buf = appendString(r.buf, bytesString(v))
	}
	r.buf = append(r.buf, '}')
	m.Headers = r.buf[start:len(r.buf):len(r.buf)]
	m.Fields |= FieldHeaders
	return nil
}

// id reads an invocation id; a required one must be neither null nor
// empty, with the text naming the message type.
func (r *netReader) id(m *Message, requiredFor string) error {
	s, _, f := r.str()
	if f.failed() {
		return perr("Reading 'invocationId' as String failed.")
	}
	if len(s) == 0 {
		if requiredFor != "" {
			return perr("Null or empty invocation ID for " + requiredFor + " message.")
		}
		return nil
	}
	m.InvocationID = string(s)
	m.Fields |= FieldInvocationID
	return nil
}

func (r *netReader) target(m *Message, messageName string) error {
	s, _, f := r.str()
	if f.failed() {
		return perr("Reading 'target' as String failed.")
	}
	if len(s) == 0 {
		return perr("Null or empty target for " + messageName + " message.")
	}
	m.Target = internString(s)
	m.Fields |= FieldTarget
	return nil
}

// arguments reads the arguments array, each argument converted to JSON; a
// value that does not decode is a binding failure of that argument.
func (r *netReader) arguments(m *Message) error {
	n, f := r.arrayHeader()
	if f.failed() {
		return perr("Reading array length for 'arguments' failed.")
	}
	start := len(r.buf)
	r.buf = append(r.buf, '[')
	for i := range n {
		if i > 0 {
			r.buf = append(r.buf, ',')
		}
		buf, rest, f := mpConv{}.value(r.buf, r.b, 1)
		r.buf = buf
		if f.failed() {
			return perr(netBindingFailed + itoa(i+1) + netBindingAdvice)
		}
		r.b = rest
	}
	r.buf = append(r.buf, ']')
	m.Arguments = r.buf[start:len(r.buf):len(r.buf)]
	m.Fields |= FieldArguments
	return nil
}

// streamIDs reads the stream ids, whose elements the .NET reader reads
// without wrapping its errors.
func (r *netReader) streamIDs(m *Message) error {
	n, f := r.arrayHeader()
	if f.failed() {
		return perr("Reading array length for 'streamIds' failed.")
	}
	for range n {
		s, _, f := r.str()
		if f.failed() {
			return perr(f.netText())
		}
		if len(s) == 0 {
			return perr("Null or empty value in streamIds received.")
		}
		m.StreamIDs = append(m.StreamIDs, string(s))
	}
	if len(m.StreamIDs) > 0 {
		m.Fields |= FieldStreamIDs
	}
	return nil
}

func parseMsgpackStrict(record []byte, m *Message, buf []byte) ([]byte, error) {
	r := netReader{b: record, buf: buf}
	err := r.message(m)
	return r.buf, err
}

// message reads the fields of m's type in order.
func (r *netReader) message(m *Message) error {
	count, f := r.arrayHeader()
	if f.failed() {
		return perr(f.netText())
	}
	t, f := r.integer(true)
	if f.failed() {
		return perr("Reading 'messageType' as Int32 failed.")
	}
	m.Type = MessageType(t)
	switch m.Type {
	case TypeInvocation, TypeStreamInvocation:
		if err := r.headers(m); err != nil {
			return err
		}
		required := ""
		name := "Invocation"
		if m.Type == TypeStreamInvocation {
			required, name = "StreamInvocation", "StreamInvocation"
		}
		if err := r.id(m, required); err != nil {
			return err
		}
		if err := r.target(m, name); err != nil {
			return err
		}
		if err := r.arguments(m); err != nil {
			return err
		}
		if count > 5 {
			return r.streamIDs(m)
		}
	case TypeStreamItem:
		if err := r.headers(m); err != nil {
			return err
		}
		if err := r.id(m, "StreamItem"); err != nil {
			return err
		}
		v, f := r.value()
		if f.failed() {
			return perr(netItemFailed)
		}
		m.Item = v
		m.Fields |= FieldItem
	case TypeCompletion:
		if err := r.headers(m); err != nil {
			return err
		}
		if err := r.id(m, "Completion"); err != nil {
			return err
		}
		kind, f := r.integer(true)
		if f.failed() {
			return perr("Reading 'resultKind' as Int32 failed.")
		}
		switch kind {
		case mpErrorResult:
			s, isNil, f := r.str()
			if f.failed() {
				return perr("Reading 'error' as String failed.")
			}
			if !isNil {
				m.Error = string(s)
				m.Fields |= FieldError
			}
		case mpNonVoidResult:
			v, f := r.value()
			if f.failed() {
				return perr(netResultFailed)
			}
			m.Result = v
			m.Fields |= FieldResult
		case mpVoidResult:
		default:
			return perr("Invalid invocation result kind.")
		}
	case TypeCancelInvocation:
		if err := r.headers(m); err != nil {
			return err
		}
		return r.id(m, "CancelInvocation")
	case TypeClose:
		s, isNil, f := r.str()
		if f.failed() {
			return perr("Reading 'error' as String failed.")
		}
		if !isNil {
			// An empty string is still an error.
			m.Error = string(s)
			m.Fields |= FieldError
		}
		if count > 2 {
			v, f := r.boolean()
			if f.failed() {
				return perr("Reading 'allowReconnect' as Boolean failed.")
			}
			if v {
				m.AllowReconnect = true
				m.Fields |= FieldAllowReconnect
			}
		}
	case TypeAck, TypeSequence:
		n, f := r.integer(false)
		if f.failed() {
			return perr("Reading 'sequenceId' as Int64 failed.")
		}
		m.SequenceID = n
		m.Fields |= FieldSequenceID
	}
	return nil
}

// The result kinds of a MessagePack Completion.
const (
	mpErrorResult   = 1
	mpVoidResult    = 2
	mpNonVoidResult = 3
)

func itoa(i int) string { return strconv.Itoa(i) }
