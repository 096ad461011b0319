package configtext

// Builder writes a Text: bytes of its own, cut into parts as it goes,
// interleaved with parts shared with other texts. Every part carries its
// checksum, so the text's CRC is folded together from the parts.
//
// The zero Builder is ready to use.
type Builder struct {
	own   []byte // written since the last part
	parts []Part
}

// Part is one part of a Text and its checksum, kept to be shared by the
// texts built after it. The zero Part is empty.
type Part struct {
	s   string
	sum partSum // sumOf(s)
}

// PartOf is the Part of a copy of b.
func PartOf(b []byte) Part { return Part{s: string(b), sum: sumOf(b)} }

// String is the part's text.
func (p Part) String() string { return p.s }

// WriteString appends s to the bytes of the builder's own.
func (tb *Builder) WriteString(s string) { tb.own = append(tb.own, s...) }

// Add appends a part (which may be shared with other texts).
func (tb *Builder) Add(p Part) {
	if p.s == "" {
		return
	}
	tb.Cut()
	tb.parts = append(tb.parts, p)
}

// Cut makes the bytes written since the last part a part, and returns it
// (the zero Part when there are none).
func (tb *Builder) Cut() Part {
	if len(tb.own) == 0 {
		return Part{}
	}
	p := PartOf(tb.own)
	tb.own = tb.own[:0]
	tb.parts = append(tb.parts, p)
	return p
}

// Text ends the building.
func (tb *Builder) Text() Text {
	tb.Cut()
	t := Text{parts: make([]string, len(tb.parts))}
	for i, p := range tb.parts {
		t.parts[i] = p.s
		t.n += len(p.s)
		t.crc = crcCombine(t.crc, p.sum)
	}
	return t
}
