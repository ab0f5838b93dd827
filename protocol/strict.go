package protocol

// The rules of the .NET JsonHubProtocol (Microsoft.AspNetCore.SignalR.
// Protocols.Json), which Strict applies: System.Text.Json's reader with its default
// depth, valid UTF-8 in strings, and the first problem in document order
// reported with the .NET text.

// strictMaxDepth is System.Text.Json's default JsonReaderOptions.MaxDepth.
const strictMaxDepth = 64

// errReadingJSON is the .NET text for every JSON reader failure.
const errReadingJSON = "Error reading JSON."

var strictRules = rules{
	mode:      Strict,
	maxDepth:  strictMaxDepth,
	validUTF8: true,
	// The reader stops at the closing brace and never looks further.
	wholeRecord: false,
	wrongType: [memberCount]string{
		memType:           "Expected 'type' to be of type Number.",
		memInvocationID:   "Expected 'invocationId' to be of type String.",
		memTarget:         "Expected 'target' to be of type String.",
		memError:          "Expected 'error' to be of type String.",
		memArguments:      "Expected 'arguments' to be of type Array.",
		memHeaders:        "Expected 'headers' to be of type StartObject.",
		memStreamIDs:      "Expected 'streamIds' to be of type Array.",
		memAllowReconnect: "Expected 'allowReconnect' to be true or false.",
		// ReadAsInt64 reads a null token as no value: see
		// nullSequenceIDAbsent.
		memSequenceID: "Expected 'sequenceId' to be of type Number.",
	},
	wrongStreamID:        "Expected 'streamIds' to be of type String.",
	nullStreamID:         "Null value for 'streamIds' is not valid.",
	stringHeaders:        true,
	nullSequenceIDAbsent: true,
}

// strictMissing is the text for each required property that is absent.
var strictMissing = [memberCount]string{
	memType:         "Missing required property 'type'.",
	memInvocationID: "Missing required property 'invocationId'.",
	memTarget:       "Missing required property 'target'.",
	memArguments:    "Missing required property 'arguments'.",
	memItem:         "Missing required property 'item'.",
	memSequenceID:   "Missing required property 'sequenceId'.",
}

// checkStrict applies the checks .NET makes once the object is read, per
// message type and in its order: a value of the wrong type has already
// failed in document order, so what is left is what is missing. Ids and
// targets are tested with string.IsNullOrEmpty.
func checkStrict(p *parser, m *Message) error {
	if p.kinds[memType] == kindInvalid {
		return p.missing(memType)
	}
	switch m.Type {
	case TypeInvocation:
		if m.Target == "" {
			return p.missing(memTarget)
		}
		if p.kinds[memArguments] == kindInvalid {
			return p.missing(memArguments)
		}
		// An empty id is a non-blocking invocation, as with no id.
		if m.InvocationID == "" {
			m.Fields &^= FieldInvocationID
		}
	case TypeStreamItem:
		if m.InvocationID == "" {
			return p.missing(memInvocationID)
		}
		if p.kinds[memItem] == kindInvalid {
			return p.missing(memItem)
		}
	case TypeCompletion:
		if m.InvocationID == "" {
			return p.missing(memInvocationID)
		}
		if m.Has(FieldError) && p.kinds[memResult] != kindInvalid {
			return perr("The 'error' and 'result' properties are mutually exclusive.")
		}
	case TypeStreamInvocation:
		if m.InvocationID == "" {
			return p.missing(memInvocationID)
		}
		if p.kinds[memArguments] == kindInvalid {
			return p.missing(memArguments)
		}
		if m.Target == "" {
			return p.missing(memTarget)
		}
	case TypeCancelInvocation:
		if m.InvocationID == "" {
			return p.missing(memInvocationID)
		}
	case TypeAck, TypeSequence:
		if !m.Has(FieldSequenceID) {
			return p.missing(memSequenceID)
		}
	}
	return nil
}

// missing is the error for a required property that is absent.
func (p *parser) missing(mb member) error { return perr(strictMissing[mb]) }

// checkHeaderValues reads the headers object at the cursor, failing on the
// first value that is not a string, with its name, as .NET does.
func (p *parser) checkHeaderValues() error {
	return p.eachMember(func(name []byte, nameEsc bool, kind valueKind, _, _ int) error {
		if kind != kindString {
			return perr("Expected header '" + decodeName(name, nameEsc) + "' to be of type String.")
		}
		return nil
	})
}

// strictNotObject reports a record that is not a JSON object. The reader
// reads the whole first token before its type is looked at, so a broken
// scalar is a JSON error.
func strictNotObject(p *parser, kind valueKind) error {
	if kind != kindArray {
		if _, _, err := p.scalar(); err != nil {
			return err
		}
	}
	return perr("Unexpected JSON Token Type '" + kind.tokenName() + "'. Expected a JSON Object.")
}
