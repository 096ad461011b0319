package configtext

import "hash/crc32"

// The CRC of a concatenation follows from the CRCs of its pieces: CRCs are
// linear over GF(2), and appending n bytes to a message multiplies its
// remainder by x^(8n) modulo the polynomial. So a part's checksum and the
// power of x for its length, stored once, let every text that shares the
// part fold it in with one multiplication, without reading its bytes.

// castagnoli is crc32's table for the Castagnoli polynomial.
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
