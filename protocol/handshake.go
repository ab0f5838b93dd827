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
	var s scanner
	s.reset(record, strictMaxDepth)
	s.strict = true
	kind := s.peekKind()
	if kind != kindObject {
		return r, notObjectStrict(&s, kind)
	}
	hasProtocol, hasVersion := false, false
	err := s.eachMemberStrict(func(name string, kind valueKind, start int) error {
		switch name {
		case "protocol":
			if kind != kindString {
				return perr("Expected 'protocol' to be of type String.")
			}
			r.Protocol = decodeStringValue(record[start:s.pos])
			hasProtocol = true
		case "version":
			n, ok := parseInt(record[start:s.pos])
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
	var s scanner
	s.reset(record, strictMaxDepth)
	kind := s.peekKind()
	if kind != kindObject {
		return r, notObjectStrict(&s, kind)
	}
	err := s.eachMemberStrict(func(name string, kind valueKind, start int) error {
		switch name {
		case "type":
			return perr("Expected a handshake response from the server.")
		case "error":
			if kind != kindString {
				return perr("Expected 'error' to be of type String.")
			}
			r.Error = decodeStringValue(record[start:s.pos])
			r.HasError = true
		}
		return nil
	})
	return r, err
}

func notObjectStrict(s *scanner, kind valueKind) error {
	var p parser
	p.s = *s
	return p.notObject(kind, Strict)
}

// eachMemberStrict walks an object in document order like the .NET reader:
// a scalar value is read whole before fn sees it (cursor after it), a
// container is handed to fn at its start and skipped afterwards. JSON
// errors become "Error reading JSON.".
func (s *scanner) eachMemberStrict(fn func(name string, kind valueKind, start int) error) error {
	p := parser{}
	p.s = *s
	defer func() { *s = p.s }()
	ps := &p.s
	ps.pos++
	ps.skipSpace()
	if ps.pos < len(ps.data) && ps.data[ps.pos] == '}' {
		ps.pos++
		return nil
	}
	for {
		ps.skipSpace()
		if ps.pos >= len(ps.data) || ps.data[ps.pos] != '"' {
			return perr(errReadingJSON)
		}
		ns, ne, nesc, err := ps.scanString()
		if err != nil {
			return perr(errReadingJSON)
		}
		if err := ps.colon(); err != nil {
			return perr(errReadingJSON)
		}
		name := decodeName(ps.data[ns:ne], nesc)
		kind, start, err := p.scalar(true)
		if err != nil {
			return err
		}
		*s = p.s
		if err := fn(name, kind, start); err != nil {
			return err
		}
		if kind == kindObject || kind == kindArray {
			// The scanner of a response does not check UTF-8 (a client
			// shows what the server sent), but its JSON errors are
			// still the .NET text.
			ps.pos = start
			if err := ps.skipValue(1); err != nil {
				return perr(errReadingJSON)
			}
		}
		ps.skipSpace()
		if ps.pos >= len(ps.data) {
			return perr(errReadingJSON)
		}
		c := ps.data[ps.pos]
		ps.pos++
		if c == '}' {
			return nil
		}
		if c != ',' {
			return perr(errReadingJSON)
		}
	}
}
