// Package configtext is the text of a rendered config file: a value the
// renderer builds, the planner compares and the shell writes, without any of
// them copying it whole.
package configtext

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

// Of is the Text of s.
func Of(s string) Text {
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

// OfBytes is the Text of a copy of b.
func OfBytes(b []byte) Text {
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
