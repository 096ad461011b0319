package model

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
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
		if err := p.open('{'); err != nil {
			return err
		}
		for first := true; ; first = false {
			more, err := p.next('}', first)
			if err != nil || !more {
				return err
			}
			if _, _, err := p.key(); err != nil {
				return err
			}
			if err := p.skip(); err != nil {
				return err
			}
		}
	case c == '[':
		if err := p.open('['); err != nil {
			return err
		}
		for first := true; ; first = false {
			more, err := p.next(']', first)
			if err != nil || !more {
				return err
			}
			if err := p.skip(); err != nil {
				return err
			}
		}
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

// String scanning. The flags of a string tell what its contents hold.
const (
	strEscape      = 1 // a backslash escape
	strNonASCII    = 2 // a byte >= 0x80, which may be invalid UTF-8
	strOtherEscape = 4 // an escape other than \"
)

// strStop marks the bytes that end the fast loop over a string's contents.
var strStop = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

// stops has the high bit set in each byte of x that is a strStop byte, and
// maybe in bytes after it, never before.
func stops(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q := x ^ (ones * '"')
	b := x ^ (ones * '\\')
	// (v - ones) &^ v marks the zero bytes of v (a borrow may mark more,
	// but only after a zero); (x - 0x20s) &^ x the bytes of x below 0x20.
	return (x | (x-ones*0x20)&^x | (q-ones)&^q | (b-ones)&^b) & highs
}

// scanString checks the string at pos and moves past it, returning its
// contents as they stand.
func (p *jsonParser) scanString() (raw []byte, flags int, err error) {
	d := p.data
	if p.embedded {
		// \"...\": canEmbed leaves no escape but \" and nothing to check.
		start := p.pos + 2
		if start > len(d) {
			p.pos = len(d)
			return nil, 0, p.fail("unexpected end in string")
		}
		end := bytes.IndexByte(d[start:], '\\')
		if end < 0 {
			p.pos = len(d)
			return nil, 0, p.fail("unexpected end in string")
		}
		p.pos = start + end + 2
		return d[start : start+end], 0, nil
	}
	start := p.pos + 1
	i := start
	for {
		// Skip plain bytes, eight at a time while there are eight.
		for len(d)-i >= 8 {
			if s := stops(binary.LittleEndian.Uint64(d[i:])); s != 0 {
				i += bits.TrailingZeros64(s) / 8
				break
			}
			i += 8
		}
		for i < len(d) && !strStop[d[i]] {
			i++
		}
		if i >= len(d) {
			break
		}
		switch c := d[i]; {
		case c == '"':
			p.pos = i + 1
			return d[start:i], flags, nil
		case c == '\\':
			flags |= strEscape
			if i+1 >= len(d) {
				i++
				break
			}
			switch d[i+1] {
			case '"':
				i += 2
			case '\\', '/', 'b', 'f', 'n', 'r', 't':
				flags |= strOtherEscape
				i += 2
			case 'u':
				flags |= strOtherEscape
				if len(d)-i < 6 {
					p.pos = len(d)
					return nil, 0, p.fail("unexpected end in string escape")
				}
				for _, h := range d[i+2 : i+6] {
					if unhex(h) < 0 {
						p.pos = i
						return nil, 0, p.fail("invalid \\u escape")
					}
				}
				i += 6
			default:
				p.pos = i
				return nil, 0, p.fail("invalid escape")
			}
		case c < 0x20:
			p.pos = i
			return nil, 0, p.fail("control character in string")
		default:
			flags |= strNonASCII
			i++
		}
	}
	p.pos = len(d)
	return nil, 0, p.fail("unexpected end in string")
}

// canEmbed tells whether the contents of a string, with flags, can be read
// as JSON embedded (see jsonParser.embedded).
func canEmbed(flags int) bool { return flags&(strNonASCII|strOtherEscape) == 0 }

// plain returns the decoded contents of a checked string, in p.buf unless
// they are raw itself.
func (p *jsonParser) plain(raw []byte, flags int) []byte {
	if flags == 0 || flags == strNonASCII && utf8.Valid(raw) {
		return raw
	}
	p.buf = unquote(p.buf[:0], raw)
	return p.buf
}

// unquote appends the decoded contents of a checked string to dst, as
// encoding/json decodes them: invalid UTF-8 becomes U+FFFD, a valid
// surrogate pair one rune, any other surrogate escape U+FFFD.
func unquote(dst, raw []byte) []byte {
	// out has room for what is left of raw as it is: an escape decodes to
	// fewer bytes than it takes, and only invalid UTF-8 (1 byte to 3) needs
	// more room.
	w := len(dst)
	out := slices.Grow(dst, len(raw))
	out = out[:cap(out)]
	for i := 0; i < len(raw); {
		c := raw[i]
		if c < utf8.RuneSelf && c != '\\' {
			out[w] = c
			w++
			i++
			continue
		}
		if c != '\\' {
			r, n := utf8.DecodeRune(raw[i:])
			if n == 1 { // invalid
				if len(out)-w < len(raw)-i+2 {
					out = slices.Grow(out[:w], len(raw)-i+2)
					out = out[:cap(out)]
				}
			}
			w += utf8.EncodeRune(out[w:], r)
			i += n
			continue
		}
		switch c = raw[i+1]; c {
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'n':
			c = '\n'
		case 'r':
			c = '\r'
		case 't':
			c = '\t'
		case 'u':
			r := hex4(raw[i+2:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = hex4(raw[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			w += utf8.EncodeRune(out[w:], r)
			continue
		} // else " \ /
		out[w] = c
		w++
		i += 2
	}
	return out[:w]
}

func unhex(c byte) rune {
	switch {
	case '0' <= c && c <= '9':
		return rune(c - '0')
	case 'a' <= c && c <= 'f':
		return rune(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return rune(c - 'A' + 10)
	}
	return -1
}

// hex4 reads four checked hex digits.
func hex4(b []byte) rune {
	return unhex(b[0])<<12 | unhex(b[1])<<8 | unhex(b[2])<<4 | unhex(b[3])
}

// scanNumber checks the number at pos and moves past it; isInt tells that
// it has neither fraction nor exponent.
func (p *jsonParser) scanNumber() (lit []byte, isInt bool, err error) {
	d := p.data
	start := p.pos
	i := start
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i+1)
	default:
		p.pos = i
		return nil, false, p.fail("invalid number")
	}
	isInt = true
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			p.pos = j
			return nil, false, p.fail("invalid number")
		}
		i, isInt = j, false
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			p.pos = j
			return nil, false, p.fail("invalid number")
		}
		i, isInt = j, false
	}
	p.pos = i
	return d[start:i], isInt, nil
}

// digits returns the index of the first byte from i on in d that is not a
// decimal digit.
func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// number decodes the number at pos: an int64 if it is an integer that
// fits, else a float64 (±Inf when too large, as strconv.ParseFloat says).
func (p *jsonParser) number() (any, error) {
	lit, isInt, err := p.scanNumber()
	if err != nil {
		return nil, err
	}
	if isInt {
		digits := lit
		if digits[0] == '-' {
			digits = digits[1:]
		}
		if len(digits) <= 18 { // < 10^18: fits
			var n int64
			for _, c := range digits {
				n = n*10 + int64(c-'0')
			}
			if lit[0] == '-' {
				n = -n
			}
			return n, nil
		}
		if n, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			return n, nil
		}
	}
	f, _ := strconv.ParseFloat(string(lit), 64)
	return f, nil
}

// internTable holds strings decoded before, and string values boxed.
type internTable struct {
	strs  map[string]string
	boxed map[string]any
}

// Bounds on what an internTable keeps.
const (
	internMaxLen   = 64
	internMaxCount = 4096
)

func (t *internTable) str(b []byte) string {
	if s, ok := t.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= internMaxLen && len(t.strs) < internMaxCount {
		if t.strs == nil {
			t.strs = map[string]string{}
		}
		t.strs[s] = s
	}
	return s
}

func (t *internTable) box(b []byte) any {
	if v, ok := t.boxed[string(b)]; ok {
		return v
	}
	s := string(b)
	var v any = s
	if len(b) <= internMaxLen && len(t.boxed) < internMaxCount {
		if t.boxed == nil {
			t.boxed = map[string]any{}
		}
		t.boxed[s] = v
	}
	return v
}
