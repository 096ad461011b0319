package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// stdJSON decodes data as encoding/json does (with UseNumber), numbers then
// converted as parseJSON converts them.
func stdJSON(data []byte) (any, error) {
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return nil, err // a syntax error
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return origFromJSONNumber(v), nil
}

// diff is cmp.Diff, quick on equal values: cmp takes forever on values
// nested thousands deep.
func diff(want, got any) string {
	if reflect.DeepEqual(want, got) {
		return ""
	}
	return cmp.Diff(want, got)
}

// sameAsStd checks that parseJSON accepts data exactly when encoding/json
// does, with the same value.
func sameAsStd(data []byte) error {
	got, err := parseJSON(data)
	want, wantErr := stdJSON(data)
	switch {
	case (err == nil) != (wantErr == nil):
		return fmt.Errorf("%q: parseJSON error %v, encoding/json error %v", data, err, wantErr)
	case err != nil:
		return nil
	}
	if diff := diff(want, got); diff != "" {
		return fmt.Errorf("%q (-encoding/json +parseJSON):\n%s", data, diff)
	}
	return nil
}

func TestParseJSON(t *testing.T) {
	cases := []struct {
		in   string
		want any
	}{
		{`null`, nil},
		{" \t\r\ntrue\n", true},
		{`false`, false},
		{`0`, int64(0)},
		{`-0`, int64(0)},
		{`-12`, int64(-12)},
		{`123456789012345678`, int64(123456789012345678)},
		{`9223372036854775807`, int64(math.MaxInt64)},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775808`, 9223372036854775808.0},
		{`-99999999999999999999`, -99999999999999999999.0},
		{`1.0`, 1.0},
		{`-0.0`, math.Copysign(0, -1)},
		{`1.5e3`, 1500.0},
		{`1E-2`, 0.01},
		{`2e+2`, 200.0},
		{`1e400`, math.Inf(1)},
		{`-1e400`, math.Inf(-1)},
		{`1e-400`, 0.0},
		{`""`, ""},
		{`"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{`"\u00e9\u00E9é"`, "ééé"},
		{`"\u0000"`, "\x00"},
		{`"\ud83d\ude00"`, "😀"},
		{`"\ud83d"`, "\ufffd"},
		{`"\ud83dx"`, "\ufffdx"},
		{`"\ud83d\u0041"`, "\ufffdA"},
		{`"\ud83d\ud83d\ude00"`, "\ufffd😀"},
		{`"\ude00\ud83d"`, "\ufffd\ufffd"},
		{`"\ud83d\n"`, "\ufffd\n"},
		{"\"\xff\"", "\ufffd"},
		{"\"a\xe2\x82\"", "a\ufffd\ufffd"},
		{"\"\xed\xa0\x80\"", "\ufffd\ufffd\ufffd"}, // an encoded surrogate
		{"\"\xef\xbf\xbd\"", "\ufffd"},
		{"\"\u2028\u2029\"", "\u2028\u2029"},
		{`[]`, []any{}},
		{`[1, "a", [null]]`, []any{int64(1), "a", []any{nil}}},
		{`{}`, map[string]any{}},
		{`{"a": 1, "b": {"c": []}}`, map[string]any{"a": int64(1), "b": map[string]any{"c": []any{}}}},
		{`{"a": 1, "a": 2}`, map[string]any{"a": int64(2)}},
		{`{"\u0061": 1, "a": 2, "A": 3}`, map[string]any{"a": int64(2), "A": int64(3)}},
		{"{\"\xff\": 1}", map[string]any{"\ufffd": int64(1)}},
		{strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), nil}, // depth checked below
	}
	for _, c := range cases {
		if err := sameAsStd([]byte(c.in)); err != nil {
			t.Error(err)
		}
		got, err := parseJSON([]byte(c.in))
		if err != nil {
			t.Errorf("%.40q: %v", c.in, err)
			continue
		}
		if strings.HasPrefix(c.in, "[[[[") {
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%q (-want +got):\n%s", c.in, diff)
		}
		if f, ok := c.want.(float64); ok && math.Signbit(f) != math.Signbit(got.(float64)) {
			t.Errorf("%q: got %v, want %v", c.in, got, f)
		}
	}
}

func TestParseJSONRejects(t *testing.T) {
	for _, in := range []string{
		``, ` `, `nul`, `nulll`, `True`, `NaN`, `Infinity`, `-Infinity`, `'a'`, `undefined`,
		`01`, `-01`, `00`, `1.`, `.1`, `+1`, `-`, `- 1`, `1e`, `1e+`, `1.e1`, `0x10`, `1_000`,
		`[`, `]`, `[1,]`, `[,1]`, `[1 2]`, `[1;2]`, `{`, `}`, `{"a":1,}`, `{,"a":1}`, `{"a" 1}`,
		`{"a":}`, `{1:2}`, `{a:1}`, `{'a':1}`, `{"a":1 "b":2}`, `{"a"::1}`, `[}`, `{]`, `1 2`, `1,`,
		`"abc`, `"\`, `"\"`, `"\a"`, `"\'"`, `"\u12"`, `"\u12G4"`, `"\U0041"`, `"\x41"`,
		"\"\x01\"", "\"\t\"", "\"\n\"", "\"\x7f", "\xef\xbb\xbf1", "1\x00", "\x001", "\v1", "\f1", "1\u00a0",
		strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1),
		strings.Repeat(`{"a":`, maxJSONDepth) + `[1]` + strings.Repeat("}", maxJSONDepth),
	} {
		if err := sameAsStd([]byte(in)); err != nil {
			t.Error(err)
		}
		if v, err := parseJSON([]byte(in)); err == nil {
			t.Errorf("%.40q accepted as %v", in, v)
		}
	}
	// At the limit, both accept.
	in := strings.Repeat(`{"a":`, maxJSONDepth-1) + `[1]` + strings.Repeat("}", maxJSONDepth-1)
	if _, err := parseJSON([]byte(in)); err != nil {
		t.Errorf("depth %d: %v", maxJSONDepth, err)
	}
}

// jsonFragments are pieces of JSON, valid and not, that arbitrary
// concatenations of which exercise the parser's corners.
var jsonFragments = []string{
	`{`, `}`, `[`, `]`, `,`, `:`, ` `, "\t", "\n", "\r", "\v", "\u00a0", `"`, `\`, `/`,
	`"a"`, `"host"`, `"HOST"`, `"hoſt"`, `"k"`, `""`, `"é"`, "\"\xff\"", "\xff", "\xe2\x82", "\xc0\xaf",
	`\u`, `\u00`, `\u00e9`, `\ud83d`, `\ude00`, `\uDBFF\uDFFF`, `\n`, `\"`, `\\`, `\/`, `\x`, "\x00", "\x1f",
	`0`, `-`, `-0`, `1`, `12`, `.`, `.5`, `e`, `E+`, `e-7`, `1e400`, `9223372036854775807`,
	`9223372036854775808`, `-9223372036854775809`, `123456789012345678`, `1234567890123456789`,
	`true`, `false`, `null`, `nul`, `t`,
}

func TestParseJSONFragments(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		parts := rapid.SliceOfN(rapid.SampledFrom(jsonFragments), 0, 24).Draw(t, "parts")
		if err := sameAsStd([]byte(strings.Join(parts, ""))); err != nil {
			t.Fatal(err)
		}
	})
}

// genJSON writes a random valid JSON value, spelt in random ways.
func genJSON(t *rapid.T, b *strings.Builder, depth int) {
	ws := func() { b.WriteString(rapid.SampledFrom([]string{"", "", " ", "\n\t", "\r\n "}).Draw(t, "ws")) }
	kinds := []string{"string", "int", "float", "lit"}
	if depth < 4 {
		kinds = append(kinds, "object", "array")
	}
	switch rapid.SampledFrom(kinds).Draw(t, "kind") {
	case "string":
		genJSONString(t, b)
	case "int":
		b.WriteString(strconv.FormatInt(rapid.Int64().Draw(t, "int"), 10))
	case "float":
		f := rapid.Float64().Draw(t, "float")
		if math.IsInf(f, 0) || math.IsNaN(f) {
			f = 0
		}
		b.WriteString(strconv.FormatFloat(f, rapid.SampledFrom([]byte("efg")).Draw(t, "fmt"), -1, 64))
	case "lit":
		b.WriteString(rapid.SampledFrom([]string{"true", "false", "null"}).Draw(t, "lit"))
	case "object":
		b.WriteByte('{')
		for i := range rapid.IntRange(0, 4).Draw(t, "members") {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			genJSONString(t, b)
			ws()
			b.WriteByte(':')
			ws()
			genJSON(t, b, depth+1)
			ws()
		}
		b.WriteByte('}')
	case "array":
		b.WriteByte('[')
		for i := range rapid.IntRange(0, 4).Draw(t, "elements") {
			if i > 0 {
				b.WriteByte(',')
			}
			ws()
			genJSON(t, b, depth+1)
			ws()
		}
		b.WriteByte(']')
	}
}

// genJSONString writes a JSON string, each character raw or escaped.
func genJSONString(t *rapid.T, b *strings.Builder) {
	b.WriteByte('"')
	for _, r := range rapid.SliceOfN(rapid.SampledFrom([]rune("aZ09 \"\\/\b\f\n\r\t\x00\x1féﬀ\u2028😀\ufffd")), 0, 8).Draw(t, "runes") {
		switch {
		case rapid.IntRange(0, 3).Draw(t, "escape") == 0 || r < 0x20 || r == '"' || r == '\\':
			if r > 0xffff {
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+((r-0x10000)>>10), 0xdc00+((r-0x10000)&0x3ff))
			} else if s := strconv.QuoteRune(r); len(s) == 4 && s[1] == '\\' && strings.ContainsRune(`"\/bfnrt`, rune(s[2])) {
				b.WriteString(s[1:3])
			} else {
				fmt.Fprintf(b, `\u%04X`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	if rapid.IntRange(0, 7).Draw(t, "oddity") == 0 {
		b.WriteString(rapid.SampledFrom([]string{"\xff", `\ud800`, `\udc00`, `\ud800\u0041`, "\xed\xa0\x80", "\xf4\x90\x80\x80"}).Draw(t, "odd"))
	}
	b.WriteByte('"')
}

func TestParseJSONValues(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b strings.Builder
		genJSON(t, &b, 0)
		data := []byte(b.String())
		if _, err := parseJSON(data); err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		if err := sameAsStd(data); err != nil {
			t.Fatal(err)
		}
		// A mutation (one byte changed, dropped or added) is judged alike.
		if len(data) > 0 {
			i := rapid.IntRange(0, len(data)-1).Draw(t, "at")
			c := rapid.SampledFrom([]byte("{}[],:\" \\/u0e-.9tn\xff\x00")).Draw(t, "byte")
			var m []byte
			switch rapid.IntRange(0, 2).Draw(t, "mutation") {
			case 0:
				m = append(append(append(m, data[:i]...), c), data[i+1:]...)
			case 1:
				m = append(append(m, data[:i]...), data[i+1:]...)
			case 2:
				m = append(append(append(m, data[:i]...), c), data[i:]...)
			}
			if err := sameAsStd(m); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// FuzzParseJSON: parseJSON accepts exactly what encoding/json accepts, with
// the same value.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		originalNode, `{"a": [1, -2.5e3, "x\u00e9\ud83d\ude00", true, false, null, {}]}`,
		`"\ud83d\u0041"`, "\"\xff\xe2\x82\"", `9223372036854775808`, `1e400`, `[1,]`, `{"a":1,"a":2}`,
		`-0`, `0.0`, ` [ ] `, `"\u12G4"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := sameAsStd(data); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkParseJSON(b *testing.B) {
	data := []byte(originalNode)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseJSON(data); err != nil {
			b.Fatal(err)
		}
	}
}

// The original decoders (encoding/json based, as of commit 6dd4e82), kept
// as the reference that the new ones must match, message for message.
