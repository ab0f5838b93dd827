package protocol

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

// ProtocolError is a record that does not follow the hub protocol. Its text
// is the official parser's message with nothing added, so that it can be
// shown, compared and logged as is.
type ProtocolError struct {
	Text string
}

func (e *ProtocolError) Error() string { return e.Text }

func perr(text string) error { return &ProtocolError{Text: text} }

// rules are what a Mode changes in decoding. The decoder (decode.go)
// fills the Message the same way in both modes and asks its rules at each
// point where the official parsers differ; strictRules (strict.go) hold
// the .NET parser's, lenientRules (lenient.go) the TypeScript client's.
type rules struct {
	mode      Mode // whose texts for bad JSON, and whose whole-message checks
	maxDepth  int
	validUTF8 bool // reject invalid UTF-8 inside strings
	// wholeRecord rejects anything but white space after the object.
	wholeRecord bool
	// wrongType[mb] is the error for a value of member mb whose JSON type
	// the parser does not read there; "" means the value is tolerated and
	// decoded as far as it goes (a container is skipped, a wrong string
	// member cleared, any arguments kept raw).
	wrongType [memberCount]string
	// wrongStreamID and nullStreamID are the errors for an element of
	// streamIds that is not a string, or null; "" tolerates it.
	wrongStreamID, nullStreamID string
	// stringHeaders checks, in document order, that every header value is
	// a string.
	stringHeaders bool
	// nullSequenceIDAbsent reads a null sequenceId as no sequenceId.
	nullSequenceIDAbsent bool
}

// member is a top-level member name of the hub protocol; memOther is any
// other name.
type member uint8

const (
	memOther member = iota
	memType
	memInvocationID
	memTarget
	memArguments
	memError
	memItem
	memResult
	memHeaders
	memStreamIDs
	memAllowReconnect
	memSequenceID
	memberCount
)

// memberOf returns the member a raw name spells. The switch converts no
// bytes: switch on string(b) compares in place.
func memberOf(name []byte) member {
	switch string(name) {
	case "type":
		return memType
	case "invocationId":
		return memInvocationID
	case "target":
		return memTarget
	case "arguments":
		return memArguments
	case "error":
		return memError
	case "item":
		return memItem
	case "result":
		return memResult
	case "headers":
		return memHeaders
	case "streamIds":
		return memStreamIDs
	case "allowReconnect":
		return memAllowReconnect
	case "sequenceId":
		return memSequenceID
	}
	return memOther
}
