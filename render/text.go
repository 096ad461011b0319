package render

import (
	"strconv"
	"unicode/utf8"
)

// checkText returns why s cannot be written into a config line, or "": a
// line break or any other control character could split a directive or add
// one, and invalid UTF-8 or Unicode line separators confuse every reader of
// the file. The model rejects all of these already; the renderer checks
// again because it trusts no input.
func checkText(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return "must not contain line breaks or control characters, got " + strconv.Quote(s)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return "must be valid UTF-8, got " + strconv.Quote(s)
		case r >= 0x80 && r < 0xa0, r == 0x2028, r == 0x2029:
			return "must not contain line breaks or control characters, got " + strconv.Quote(s)
		}
		i += size
	}
	return ""
}

// checkQuotes returns why HAProxy's line parser would reject s, or "":
// an unmatched quote, an unmatched "${" inside double quotes, or a
// truncated \x escape. HAProxy stops reading a line at an unquoted '#'.
func checkQuotes(s string) string {
	squote, dquote := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && !squote:
			if i+1 < len(s) && s[i+1] == 'x' {
				if !isHex(s, i+2) || !isHex(s, i+3) {
					return "truncated or invalid \\x escape at position " + strconv.Itoa(i+1)
				}
				i += 3
				continue
			}
			i++ // the escaped character
		case c == '\'' && !dquote:
			squote = !squote
		case c == '"' && !squote:
			dquote = !dquote
		case c == '#' && !squote && !dquote:
			return ""
		case c == '$' && dquote && i+1 < len(s) && s[i+1] == '{':
			j := i + 2
			for j < len(s) && s[j] != '}' && s[j] != '"' {
				j++
			}
			if j == len(s) || s[j] != '}' {
				return "unmatched brace in ${...} at position " + strconv.Itoa(i+1)
			}
			i = j
		}
	}
	if squote || dquote {
		return "unmatched quote"
	}
	return ""
}

func isHex(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
