package protocol

// The parser reads values as the .NET Utf8JsonReader hands them to the
// hub protocol: a scalar is read whole, and validated, before its type is
// looked at; a container is looked at first and read afterwards, so that a
// container of the wrong type is rejected before anything inside it. Both
// modes read this way; only the texts of their errors differ (p.syntax).

// scalar looks at the value at the cursor. A scalar is consumed (and
// validated, as the .NET reader reads a whole token before its type is
// checked); for an object or array only the kind is reported and the
// cursor stays at its start, because .NET rejects a wrong container type
// before reading into it.
func (p *parser) scalar() (valueKind, int, error) {
	s := &p.s
	data := s.data
	start := skipWS(data, s.pos)
	s.pos = start
	if start >= len(data) {
		return kindInvalid, start, p.syntax()
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
			return kindString, start, p.syntax()
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
			return kind, start, p.syntax()
		}
		s.pos = start + len(lit)
		return kind, start, nil
	default:
		if c != '-' && c-'0' >= 10 {
			return kindInvalid, start, p.syntax()
		}
		j, ok := numberEnd(data, start)
		s.pos = j
		if !ok {
			return kindNumber, start, p.syntax()
		}
		return kindNumber, start, nil
	}
}

// commaOrEnd consumes what follows a member or an element: a comma, or the
// closing byte of its container, in which case done is true.
func (p *parser) commaOrEnd(closing byte) (done bool, err error) {
	s := &p.s
	s.skipSpace()
	if s.pos >= len(s.data) {
		return false, p.syntax()
	}
	switch s.data[s.pos] {
	case closing:
		s.pos++
		return true, nil
	case ',':
		s.pos++
		return false, nil
	}
	return false, p.syntax()
}

// skipRest consumes a value whose start scalar left at the cursor.
func (p *parser) skipRest(start int) error {
	p.s.pos = start
	if err := p.s.skipValue(1); err != nil {
		return p.syntax()
	}
	return nil
}

// eachMember walks the object whose '{' is at the cursor, in document
// order, and calls fn for each member with its raw name (without quotes),
// whether the name holds escapes, and its value's kind and span: a scalar
// is read before fn sees it, a container is handed over at its start
// (end == start) and skipped afterwards. fn may stop the walk by returning
// an error.
func (p *parser) eachMember(fn func(name []byte, nameEsc bool, kind valueKind, start, end int) error) error {
	s := &p.s
	s.pos++
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return p.syntax()
		}
		ns, ne, nesc, err := s.scanString()
		if err != nil {
			return p.syntax()
		}
		if err := s.colon(); err != nil {
			return p.syntax()
		}
		kind, start, err := p.scalar()
		if err != nil {
			return err
		}
		if err := fn(s.data[ns:ne], nesc, kind, start, s.pos); err != nil {
			return err
		}
		if kind == kindObject || kind == kindArray {
			if err := p.skipRest(start); err != nil {
				return err
			}
		}
		done, err := p.commaOrEnd('}')
		if err != nil {
			return err
		}
		if done {
			return nil
		}
	}
}
