package model

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Severity says whether a diagnostic stops an item from being used.
type Severity int

const (
	// Error means the item it names was not accepted as written.
	Error Severity = iota
	// Warning means the item was accepted; something in it deserves a look.
	Warning
)

// String returns "error" or "warning".
func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "error"
}

// MarshalText writes "error" or "warning".
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Diagnostic is a located problem: which file, which key, which line.
// File is relative to the config directory and uses forward slashes.
// Line is the 1-based YAML line, or 0 when unknown. Key is a dotted path
// such as "haproxy.port" or "proxies.partner.upstreams[0].host".
type Diagnostic struct {
	Severity Severity `json:"severity"`
	File     string   `json:"file"`
	Line     int      `json:"line,omitempty"`
	Key      string   `json:"key,omitempty"`
	Message  string   `json:"message"`
}

// String renders the diagnostic on one line, e.g.
// `clusters/web.yaml:3: haproxy.port: must be an integer 1..65535, got "eighty"`.
// Warnings carry a "warning: " prefix before the key.
func (d Diagnostic) String() string {
	var b strings.Builder
	b.WriteString(d.File)
	if d.Line > 0 {
		fmt.Fprintf(&b, ":%d", d.Line)
	}
	b.WriteString(": ")
	if d.Severity == Warning {
		b.WriteString("warning: ")
	}
	if d.Key != "" {
		b.WriteString(d.Key)
		b.WriteString(": ")
	}
	b.WriteString(d.Message)
	return b.String()
}

// Diagnostics is a collected list of problems; a loader reports all of them,
// never only the first.
type Diagnostics []Diagnostic

// HasErrors reports whether any diagnostic is an error.
func (ds Diagnostics) HasErrors() bool {
	for _, d := range ds {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Errors returns only the errors.
func (ds Diagnostics) Errors() Diagnostics {
	var out Diagnostics
	for _, d := range ds {
		if d.Severity == Error {
			out = append(out, d)
		}
	}
	return out
}

// Sort orders diagnostics by file, line, key and message, so that output
// never depends on the order in which checks ran.
func (ds Diagnostics) Sort() {
	sort.SliceStable(ds, func(i, j int) bool {
		a, b := ds[i], ds[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Message < b.Message
	})
}

// String renders one diagnostic per line.
func (ds Diagnostics) String() string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// MaxEcho is the most bytes of one input value that a diagnostic repeats:
// a longer value is cut, and its full length stated, so that a 100 MB host
// name makes a short message.
const MaxEcho = 120

// clip returns s, or its first MaxEcho bytes (on a rune boundary) followed
// by "…(N bytes)" when it is longer.
func clip(s string) string {
	if len(s) <= MaxEcho {
		return s
	}
	return cut(s) + fmt.Sprintf("…(%d bytes)", len(s))
}

// quote is strconv.Quote(s) for a diagnostic: a value longer than MaxEcho
// bytes is cut and its length stated after the closing quote.
func quote(s string) string {
	if len(s) <= MaxEcho {
		return strconv.Quote(s)
	}
	return strconv.Quote(cut(s)) + fmt.Sprintf("…(%d bytes)", len(s))
}

func cut(s string) string {
	n := MaxEcho
	for i := 0; i < utf8.UTFMax-1 && !utf8.RuneStart(s[n]); i++ {
		n--
	}
	return s[:n]
}
