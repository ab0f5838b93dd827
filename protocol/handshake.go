package protocol

import "strconv"

// HandshakeRequest is the first record a client sends.
type HandshakeRequest struct {
	Protocol string
	Version  int
}

// HandshakeResponse is the server's answer to the handshake; an error
// means the server will close the connection.
type HandshakeResponse struct {
	Error    string
	HasError bool
}

// AppendHandshakeRequest appends r as the official clients write it,
// `{"protocol":"json","version":1}` and the record separator.
func AppendHandshakeRequest(dst []byte, r HandshakeRequest) []byte {
	dst = append(dst, `{"protocol":`...)
	dst = appendString(dst, r.Protocol)
	dst = append(dst, `,"version":`...)
	dst = strconv.AppendInt(dst, int64(r.Version), 10)
	return append(dst, '}', RecordSeparator)
}

// AppendHandshakeResponse appends a handshake response: `{}` on success,
// `{"error":"..."}` when errText is not empty.
func AppendHandshakeResponse(dst []byte, errText string) []byte {
	if errText == "" {
		return append(dst, '{', '}', RecordSeparator)
	}
	dst = append(dst, `{"error":`...)
	dst = appendString(dst, errText)
	return append(dst, '}', RecordSeparator)
}

// ParseHandshakeRequest decodes a handshake request record (without its
// separator) with the .NET server's rules and error texts.
func ParseHandshakeRequest(record []byte) (HandshakeRequest, error) {
	var r HandshakeRequest
	p := handshakeParser(record, true)
	if kind := p.s.peekKind(); kind != kindObject {
		return r, p.notObject(kind)
	}
	hasProtocol, hasVersion := false, false
	err := p.eachMember(func(name []byte, nameEsc bool, kind valueKind, start, end int) error {
		switch decodeName(name, nameEsc) {
		case "protocol":
			if kind != kindString {
				return perr("Expected 'protocol' to be of type String.")
			}
			r.Protocol = decodeStringValue(record[start:end])
			hasProtocol = true
		case "version":
			n, ok := parseInt(record[start:end])
			if kind != kindNumber || !ok {
				return perr("Expected 'version' to be of type Number.")
			}
			r.Version = int(n)
			hasVersion = true
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	if !hasProtocol {
		return r, perr("Missing required property 'protocol'. Message content: " + string(record))
	}
	if !hasVersion {
		return r, perr("Missing required property 'version'. Message content: " + string(record))
	}
	return r, nil
}

// ParseHandshakeResponse decodes a handshake response record (without its
// separator). A record with a `type` member is a hub message, not a
// handshake response, which both official clients reject.
func ParseHandshakeResponse(record []byte) (HandshakeResponse, error) {
	var r HandshakeResponse
	p := handshakeParser(record, false)
	if kind := p.s.peekKind(); kind != kindObject {
		return r, p.notObject(kind)
	}
	err := p.eachMember(func(name []byte, nameEsc bool, kind valueKind, start, end int) error {
		switch decodeName(name, nameEsc) {
		case "type":
			return perr("Expected a handshake response from the server.")
		case "error":
			if kind != kindString {
				return perr("Expected 'error' to be of type String.")
			}
			r.Error = decodeStringValue(record[start:end])
			r.HasError = true
		}
		return nil
	})
	return r, err
}

// handshakeParser reads a handshake record with the .NET rules and texts.
// A client reading a response does not check UTF-8: it shows what the
// server sent.
func handshakeParser(record []byte, validUTF8 bool) parser {
	p := parser{r: &strictRules}
	p.s.reset(record, strictMaxDepth)
	p.s.strict = validUTF8
	return p
}
