package configtext

import (
	"hash/crc32"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// genText builds a Text of s through a Builder, cutting s at random
// places into own and shared parts (some empty), own parts sometimes cut.
func genText(t *rapid.T, s, label string) Text {
	var tb Builder
	for rest := s; ; {
		if rest == "" {
			break
		}
		n := rapid.IntRange(0, len(rest)).Draw(t, label+" cut")
		if rapid.Bool().Draw(t, label+" shared") {
			tb.Add(PartOf([]byte(rest[:n])))
		} else {
			tb.WriteString(rest[:n])
			if rapid.Bool().Draw(t, label+" cut own") {
				tb.Cut()
			}
		}
		rest = rest[n:]
	}
	return tb.Text()
}

// TestPropertyText: however a text is cut into parts, it reads as the same
// bytes, and two texts are Equal exactly when their bytes are.
func TestPropertyText(t *testing.T) {
	alphabet := rapid.StringOfN(rapid.RuneFrom([]rune("ab\n")), 0, 40, -1)
	rapid.Check(t, func(t *rapid.T) {
		s := alphabet.Draw(t, "s")
		u := s
		if rapid.Bool().Draw(t, "other") {
			u = alphabet.Draw(t, "u")
		}
		a, b := genText(t, s, "a"), genText(t, u, "b")
		if a.String() != s || string(a.Bytes()) != s || a.Len() != len(s) {
			t.Fatalf("text of %q reads %q (%q, length %d)", s, a.String(), a.Bytes(), a.Len())
		}
		if got, want := a.Checksum(), crc32.Checksum([]byte(s), castagnoli); got != want {
			t.Fatalf("checksum of %q: %08x, want %08x", s, got, want)
		}
		var w strings.Builder
		if n, err := a.WriteTo(&w); err != nil || n != int64(len(s)) || w.String() != s {
			t.Fatalf("WriteTo wrote %q (%d, %v), want %q", w.String(), n, err, s)
		}
		if got, want := a.Equal(b), s == u; got != want || b.Equal(a) != want {
			t.Fatalf("Equal(%q, %q) = %v, want %v", s, u, got, want)
		}
	})
}

func TestOf(t *testing.T) {
	if z := Of(""); z.Len() != 0 || !z.Equal(Text{}) || z.String() != "" {
		t.Errorf("Of(\"\") = %#v, want the empty Text", z)
	}
	if x := OfBytes([]byte("global\n")); x.String() != "global\n" || !x.Equal(Of("global\n")) || x.Equal(Of("global")) {
		t.Errorf("OfBytes: %#v", x)
	}
}

// TestPropertyCRCCombine: the checksum of a concatenation follows from the
// checksums of its halves, at every length (not only the short ones the
// text test reaches).
func TestPropertyCRCCombine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := rapid.SliceOfN(rapid.Byte(), 0, 300).Draw(t, "a")
		b := rapid.SliceOfN(rapid.Byte(), 0, 70000).Draw(t, "b")
		want := crc32.Checksum(append(append([]byte(nil), a...), b...), castagnoli)
		if got := crcCombine(crc32.Checksum(a, castagnoli), sumOf(b)); got != want {
			t.Fatalf("combined %08x, want %08x", got, want)
		}
	})
}

func TestXPow8n(t *testing.T) {
	// Appending n zero bytes to a message of all zero state multiplies by
	// x^(8n): check against crc32 on real zeros, lengths across bit
	// boundaries.
	for _, n := range []int{0, 1, 2, 3, 7, 8, 255, 256, 4096, 65537, 1 << 20} {
		zeros := make([]byte, n)
		msg := []byte("lighthouse")
		want := crc32.Checksum(append(append([]byte(nil), msg...), zeros...), castagnoli)
		if got := crcCombine(crc32.Checksum(msg, castagnoli), sumOf(zeros)); got != want {
			t.Errorf("n=%d: %08x, want %08x", n, got, want)
		}
	}
}
