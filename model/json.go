package model

import (
	"strconv"
	"strings"
)

// A small, strict JSON parser: it accepts and rejects exactly what
// encoding/json does, and decodes to the same values as encoding/json with
// UseNumber followed by our number conversion (an integer literal that fits
// is an int64, any other number a float64). It lets DecodeMembershipFile
// read a file in one pass, where encoding/json took three or four.

// maxJSONDepth is encoding/json's nesting limit: 10000 open objects and
// arrays are accepted, 10001 are not.
const maxJSONDepth = 10000

// jsonError is a syntax error (encoding/json words them differently; where
// the wording reaches a user, we ask encoding/json for it).
type jsonError struct {
	Offset int
	Msg    string
}

func (e *jsonError) Error() string {
	return "JSON syntax error at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// jsonParser reads JSON from data, from pos on.
type jsonParser struct {
	data  []byte
	pos   int
	depth int    // open objects and arrays
	buf   []byte // scratch space for unquoting

	// embedded tells that data is the contents of a JSON string, as they
	// stand, that holds JSON: the original's encoding of peer and metadata.
	// Its only escapes are \" and it is ASCII (see canEmbed), so it reads
	// as the JSON it holds with \" for each quote, and its strings have no
	// escapes.
	embedded bool

	// intern, when set, shares the strings decoded: a membership file
	// repeats the same few metadata keys and values thousands of times.
	intern *internTable
}

// parseJSON decodes one JSON value, alone but for whitespace, into
// map[string]any, []any, string, int64, float64, bool or nil.
func parseJSON(data []byte) (any, error) {
	p := jsonParser{data: data}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	if err := p.end(); err != nil {
		return nil, err
	}
	return v, nil
}

func (p *jsonParser) fail(msg string) error { return &jsonError{Offset: p.pos, Msg: msg} }

// end checks that only whitespace is left.
func (p *jsonParser) end() error {
	p.ws()
	if p.pos < len(p.data) {
		return p.fail("data after the value")
	}
	return nil
}

func (p *jsonParser) ws() {
	d, i := p.data, p.pos
	for i < len(d) && d[i] <= ' ' && (d[i] == ' ' || d[i] == '\t' || d[i] == '\n' || d[i] == '\r') {
		i++
	}
	p.pos = i
}

// peek skips whitespace and returns the next byte, 0 at the end.
func (p *jsonParser) peek() byte {
	p.ws()
	if p.pos < len(p.data) {
		return p.data[p.pos]
	}
	return 0
}

// quote is the byte that starts a string: " or, embedded, the \ of \".
func (p *jsonParser) quote() byte {
	if p.embedded {
		return '\\'
	}
	return '"'
}

// open consumes c, '{' or '[', opening one more level.
func (p *jsonParser) open(c byte) error {
	if p.peek() != c {
		return p.fail("expected " + string(rune(c)))
	}
	p.depth++
	if p.depth > maxJSONDepth {
		return p.fail("exceeded max depth")
	}
	p.pos++
	return nil
}

// next reports whether another member or element follows in the object or
// array just opened; if not, it consumes close. first tells whether none
// has been read yet.
func (p *jsonParser) next(close byte, first bool) (bool, error) {
	c := p.peek()
	switch {
	case c == close:
		p.pos++
		p.depth--
		return false, nil
	case first:
		return true, nil
	case c == ',':
		p.pos++
		return true, nil
	}
	return false, p.fail("expected , or " + string(rune(close)))
}

// key checks and returns the raw contents of the key at pos, and the ':'
// after it.
func (p *jsonParser) key() (raw []byte, flags int, err error) {
	if p.peek() != p.quote() {
		return nil, 0, p.fail("expected a key")
	}
	if raw, flags, err = p.scanString(); err != nil {
		return nil, 0, err
	}
	if p.peek() != ':' {
		return nil, 0, p.fail("expected :")
	}
	p.pos++
	return raw, flags, nil
}

// lit consumes the literal s (true, false or null).
func (p *jsonParser) lit(s string) error {
	if len(p.data)-p.pos < len(s) || string(p.data[p.pos:p.pos+len(s)]) != s {
		return p.fail("invalid literal")
	}
	p.pos += len(s)
	return nil
}

// value decodes the value at pos.
func (p *jsonParser) value() (any, error) {
	switch c := p.peek(); {
	case c == '{':
		m, err := p.object()
		if err != nil {
			return nil, err
		}
		return m, nil
	case c == '[':
		return p.array()
	case c == p.quote():
		raw, flags, err := p.scanString()
		if err != nil {
			return nil, err
		}
		if p.intern != nil {
			return p.intern.box(p.plain(raw, flags)), nil
		}
		return string(p.plain(raw, flags)), nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	case c == 't':
		return true, p.lit("true")
	case c == 'f':
		return false, p.lit("false")
	case c == 'n':
		return nil, p.lit("null")
	}
	return nil, p.fail("expected a value")
}

func (p *jsonParser) object() (map[string]any, error) {
	if err := p.open('{'); err != nil {
		return nil, err
	}
	m := map[string]any{}
	for first := true; ; first = false {
		more, err := p.next('}', first)
		if err != nil {
			return nil, err
		}
		if !more {
			return m, nil
		}
		raw, flags, err := p.key()
		if err != nil {
			return nil, err
		}
		var k string
		if p.intern != nil {
			k = p.intern.str(p.plain(raw, flags))
		} else {
			k = string(p.plain(raw, flags))
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		m[k] = v // the last of equal keys wins
	}
}

func (p *jsonParser) array() (any, error) {
	if err := p.open('['); err != nil {
		return nil, err
	}
	a := []any{}
	for first := true; ; first = false {
		more, err := p.next(']', first)
		if err != nil {
			return nil, err
		}
		if !more {
			return a, nil
		}
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
	}
}

// skip checks the value at pos and moves past it, building nothing.
func (p *jsonParser) skip() error {
	switch c := p.peek(); {
	case c == '{':
		return p.skipMembers('{', '}', true)
	case c == '[':
		return p.skipMembers('[', ']', false)
	case c == p.quote():
		_, _, err := p.scanString()
		return err
	case c == '-' || c >= '0' && c <= '9':
		_, _, err := p.scanNumber()
		return err
	case c == 't':
		return p.lit("true")
	case c == 'f':
		return p.lit("false")
	case c == 'n':
		return p.lit("null")
	}
	return p.fail("expected a value")
}

// skipMembers checks the object or array at pos (keyed tells which: its
// members have keys) and moves past it.
func (p *jsonParser) skipMembers(open, close byte, keyed bool) error {
	if err := p.open(open); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := p.next(close, first)
		if err != nil || !more {
			return err
		}
		if keyed {
			if _, _, err := p.key(); err != nil {
				return err
			}
		}
		if err := p.skip(); err != nil {
			return err
		}
	}
}

// rawValue is a value as fields() keeps it.
type rawValue struct {
	raw []byte // its JSON (embedded, with \" for quotes); nil if missing

	// For a string, str is true and chars are its contents, still to be
	// decoded as flags say.
	str   bool
	chars []byte
	flags int
}

// null tells whether v is missing or null.
func (v rawValue) null() bool { return v.raw == nil || string(v.raw) == "null" }

// fields reads the object at pos, keeping in vals[i] the value of the key
// that matches names[i] as encoding/json matches a struct field's name:
// ignoring case, the last one winning. vals[i] stays zero for a key that is
// missing. Other values are checked, not kept.
func (p *jsonParser) fields(names []string, vals []rawValue) error {
	if err := p.open('{'); err != nil {
		return err
	}
	for first := true; ; first = false {
		more, err := p.next('}', first)
		if err != nil || !more {
			return err
		}
		key, flags, err := p.key()
		if err != nil {
			return err
		}
		field := -1
		if flags == 0 {
			for i, name := range names {
				if asciiEqualFold(key, name) {
					field = i
					break
				}
			}
		} else {
			p.buf = unquote(p.buf[:0], key)
			for i, name := range names {
				// encoding/json folds keys as strings.EqualFold does:
				// "hoſt" matches host.
				if strings.EqualFold(string(p.buf), name) {
					field = i
					break
				}
			}
		}
		c := p.peek()
		start := p.pos
		var v rawValue
		if c == p.quote() {
			v.str = true
			v.chars, v.flags, err = p.scanString()
		} else {
			err = p.skip()
		}
		if err != nil {
			return err
		}
		if field >= 0 {
			v.raw = p.data[start:p.pos]
			vals[field] = v
		}
	}
}

// asciiEqualFold compares a plain ASCII key with a lower-case ASCII name.
func asciiEqualFold(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
}
