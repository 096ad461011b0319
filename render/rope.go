package render

import (
	"hash/crc32"
	"io"
	"strings"
)

// Text is the text of a config file, held as the sequence of its parts.
//
// A render shares the parts that did not change with the renders before it
// (the server lines of every backend whose members and settings are the
// same), so rendering costs what changed rather than the size of the file.
// Comparing texts that share parts is cheap too: equal strings at the same
// address compare without reading their bytes.
//
// A Text knows its CRC-32C: a render computes the checksum of what it
// writes and combines it with the stored checksums of the parts it shares.
//
// A Text is a value: nothing changes it once it is made. The zero Text is
// empty.
type Text struct {
	parts []string
	n     int
	crc   uint32
}

// TextOf is the Text of s.
func TextOf(s string) Text {
	if s == "" {
		return Text{}
	}
	var buf [4096]byte // the checksum reads bytes
	crc := uint32(0)
	for rest := s; rest != ""; {
		k := copy(buf[:], rest)
		crc, rest = crc32.Update(crc, castagnoli, buf[:k]), rest[k:]
	}
	return Text{parts: []string{s}, n: len(s), crc: crc}
}

// TextBytes is the Text of a copy of b.
func TextBytes(b []byte) Text {
	if len(b) == 0 {
		return Text{}
	}
	return Text{parts: []string{string(b)}, n: len(b), crc: crc32.Checksum(b, castagnoli)}
}

// Len is the length of the text in bytes.
func (t Text) Len() int { return t.n }

// Checksum is the CRC-32C (Castagnoli) of the text.
func (t Text) Checksum() uint32 { return t.crc }

// String is the whole text as one string.
func (t Text) String() string {
	if len(t.parts) == 1 {
		return t.parts[0]
	}
	var b strings.Builder
	b.Grow(t.n)
	for _, p := range t.parts {
		b.WriteString(p)
	}
	return b.String()
}

// Bytes is the whole text in a new slice.
func (t Text) Bytes() []byte {
	b := make([]byte, 0, t.n)
	for _, p := range t.parts {
		b = append(b, p...)
	}
	return b
}

// WriteTo writes the text to w, part by part.
func (t Text) WriteTo(w io.Writer) (int64, error) {
	var n int64
	for _, p := range t.parts {
		m, err := io.WriteString(w, p)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// Equal reports whether two texts are the same bytes, wherever their parts
// fall.
func (t Text) Equal(u Text) bool {
	if t.n != u.n || t.crc != u.crc {
		return false
	}
	i, j := 0, 0   // parts
	a, b := "", "" // what is left of t.parts[i-1] and u.parts[j-1]
	for {
		for a == "" && i < len(t.parts) {
			a, i = t.parts[i], i+1
		}
		for b == "" && j < len(u.parts) {
			b, j = u.parts[j], j+1
		}
		if a == "" || b == "" {
			return a == b
		}
		n := min(len(a), len(b))
		if a[:n] != b[:n] {
			return false
		}
		a, b = a[n:], b[n:]
	}
}

// textBuilder writes a Text: bytes of its own, cut into parts as it goes,
// interleaved with parts shared with other texts. Every part carries its
// checksum, so the text's CRC is folded together from the parts.
type textBuilder struct {
	own   []byte // written since the last part
	parts []textPart
}

// textPart is one part of a Text and its sum.
type textPart struct {
	s   string
	sum partSum // sumOf(s)
}

// add appends a part (which may be shared with other texts).
func (tb *textBuilder) add(p textPart) {
	if p.s == "" {
		return
	}
	tb.cut()
	tb.parts = append(tb.parts, p)
}

// cut makes the bytes written since the last part a part, and returns it
// (the zero textPart when there are none).
func (tb *textBuilder) cut() textPart {
	if len(tb.own) == 0 {
		return textPart{}
	}
	p := textPart{s: string(tb.own), sum: sumOf(tb.own)}
	tb.own = tb.own[:0]
	tb.parts = append(tb.parts, p)
	return p
}

// text ends the building.
func (tb *textBuilder) text() Text {
	tb.cut()
	t := Text{parts: make([]string, len(tb.parts))}
	for i, p := range tb.parts {
		t.parts[i] = p.s
		t.n += len(p.s)
		t.crc = crcCombine(t.crc, p.sum)
	}
	return t
}

// ---- checksums -------------------------------------------------------------
//
// The CRC of a concatenation follows from the CRCs of its pieces: CRCs are
// linear over GF(2), and appending n bytes to a message multiplies its
// remainder by x^(8n) modulo the polynomial. So a part's checksum and the
// power of x for its length, stored once, let every text that shares the
// part fold it in with one multiplication, without reading its bytes.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// castagnoliPoly is the Castagnoli polynomial, bit-reversed as crc32 keeps it.
const castagnoliPoly = 0x82f63b78

// partSum is what combining a part needs: its CRC, and x^(8·len) modulo the
// polynomial.
type partSum struct {
	crc, shift uint32
}

func sumOf(b []byte) partSum {
	return partSum{crc: crc32.Checksum(b, castagnoli), shift: xPow8n(len(b))}
}

// crcCombine is the CRC of A followed by B, from crc = CRC(A) and B's sum.
func crcCombine(crc uint32, b partSum) uint32 { return mulMod(b.shift, crc) ^ b.crc }

// mulMod multiplies two polynomials modulo the polynomial, in crc32's
// bit-reversed form: bit 31 is the coefficient of x^0.
func mulMod(a, b uint32) uint32 {
	var p uint32
	for m := uint32(1) << 31; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		if b&1 != 0 {
			b = b>>1 ^ castagnoliPoly
		} else {
			b >>= 1
		}
	}
	return p
}

// xPow2k[k] is x^(2^k) modulo the polynomial, for every k that xPow8n
// needs (n < 2^63).
var xPow2k = func() (t [3 + 63]uint32) {
	t[0] = 1 << 30 // x^1
	for k := 1; k < len(t); k++ {
		t[k] = mulMod(t[k-1], t[k-1])
	}
	return t
}()

// xPow8n is x^(8n) modulo the polynomial, by squaring: n's bits choose the
// factors x^(2^k) for k = 3, 4, ...
func xPow8n(n int) uint32 {
	p := uint32(1) << 31 // x^0
	for k := 3; n != 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = mulMod(xPow2k[k], p)
		}
	}
	return p
}
