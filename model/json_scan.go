package model

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The scanning of JSON strings and numbers for jsonParser (see json.go).

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
