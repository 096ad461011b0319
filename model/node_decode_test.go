package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

func TestDecodeNodeForms(t *testing.T) {
	cases := []struct {
		name, data string
		want       Node
	}{
		{"plain objects", `{"host":"a.example","ip":"::1","port":"8888","peer":{"name":"a.example","ip":"::1"},"metadata":{"n":1.5,"k":[1,"x"]}}`,
			Node{Host: "a.example", IP: "::1", Port: 8888, Peer: &Peer{Name: "a.example", IP: "::1", Port: 1024}, Metadata: map[string]any{"n": 1.5, "k": []any{int64(1), "x"}}}},
		{"no peer, null metadata", `{"host":"h","ip":"1.2.3.4","port":1,"peer":null,"metadata":null}`,
			Node{Host: "h", IP: "1.2.3.4", Port: 1, Metadata: map[string]any{}}},
	}
	for _, c := range cases {
		got, err := DecodeNode([]byte(c.data))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}

func TestDecodeNodeRejects(t *testing.T) {
	cases := map[string]string{
		`{"ip":"1.2.3.4","port":80}`:                                                 "no host",
		`{"host":"h","port":80}`:                                                     "no ip",
		`{"host":"h","ip":"1.2.3.4"}`:                                                "no port",
		`{"host":"h","ip":"1.2.3.4\nbackend x","port":80}`:                           `ip "1.2.3.4\nbackend x" is not an IP address`,
		`{"host":"h\nserver evil 6.6.6.6:1","ip":"1.2.3.4","port":80}`:               `host "h\nserver evil 6.6.6.6:1" is not a valid host name`,
		`{"host":"h x","ip":"1.2.3.4","port":80}`:                                    `host "h x" is not a valid host name`,
		`{"host":"h","ip":"localhost","port":80}`:                                    `ip "localhost" is not an IP address`,
		`{"host":"h","ip":"fe80::1%eth0","port":80}`:                                 `ip "fe80::1%eth0" is not an IP address`,
		`{"host":"h","ip":"1.2.3.4","port":70000}`:                                   "port 70000 is not a port 1..65535",
		`{"host":"h","ip":"1.2.3.4","port":"80 x"}`:                                  `port "80 x" is not a port 1..65535`,
		`{"host":"h","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"p\"}"}`:            "peer: no ip",
		`{"host":"h","ip":"1.2.3.4","port":80,"peer":{"name":"p q","ip":"1.1.1.1"}}`: `peer name "p q" is not a valid host name`,
		`{"host":"h","ip":"1.2.3.4","port":80,"metadata":"[1]"}`:                     "metadata is not a JSON object",
		`[1]`: "not a JSON object",
	}
	for data, want := range cases {
		_, err := DecodeNode([]byte(data))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err %v, want %q", data, err, want)
		}
	}
}

func BenchmarkDecodeNode(b *testing.B) {
	data := []byte(originalNode)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeNode(data); err != nil {
			b.Fatal(err)
		}
	}
}

// sameNodeAsOriginal checks that DecodeNode returns what the original did,
// node (even with an error) and message.
func sameNodeAsOriginal(data []byte) error {
	want, wantErr := origDecodeNodeRenamed(data)
	got, err := DecodeNode(data)
	if fmt.Sprint(err) != fmt.Sprint(wantErr) {
		return fmt.Errorf("%q: error %v, the original's %v", data, err, wantErr)
	}
	if diff := diff(want, got); diff != "" {
		return fmt.Errorf("%q (-original +new):\n%s", data, diff)
	}
	return nil
}

func TestDecodeNodeMatchesOriginal(t *testing.T) {
	for _, in := range []string{
		originalNode, `null`, ` null `, `[1]`, `"x"`, `1`, `true`, `{`, `{"host":}`, `{"host":"a"} x`, ``,
		`{"HOST":"a.b","Ip":"1.2.3.4","PORT":80}`,
		`{"hoſt":"a.b","ip":"1.2.3.4","port":80}`,
		`{"\u0068ost":"a.b","ip":"1.2.3.4","port":80}`,
		`{"host":"x","host":"a.b","ip":"1.2.3.4","port":80,"ip":"::1"}`,
		`{"host":"a.b","host":null,"ip":"1.2.3.4","port":80}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"other":{"deep":[1,2,{"x":"\u00e9"}]}}`,
		`{"host":1,"ip":"1.2.3.4","port":80}`,
		`{"host":"a\u002eb","ip":"1.2.3.4","port":80}`,
		"{\"host\":\"a\xffb\",\"ip\":\"1.2.3.4\",\"port\":80}",
		`{"host":"a.b","ip":{},"port":80}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"+80"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"0080"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"00000000000000000000000080"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"\u0038\u0030"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":" 80"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"-80"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"-0"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"0"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"65536"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"99999999999999999999999"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80.0}`,
		`{"host":"a.b","ip":"1.2.3.4","port":8e1}`,
		`{"host":"a.b","ip":"1.2.3.4","port":-1}`,
		`{"host":"a.b","ip":"1.2.3.4","port":true}`,
		`{"host":"a.b","ip":"1.2.3.4","port":{ "a" : [ 1 ] }}`,
		`{"host":"a.b","ip":"1.2.3.4","port":"٨٠"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{"name":"p","ip":"::1","port":"1025"}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{"NAME":"p","IP":"::1","PoRt":null}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":" \t{\"name\":\"p\",\"ip\":\"::1\"}\n "}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"\u00a0\u2028{\"name\":\"p\",\"ip\":\"::1\"}\u0085\u3000"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"\ufeff{\"name\":\"p\",\"ip\":\"::1\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"p\",\"ip\":\"::1\"} x"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"p\",\"ip\":\"::1\",}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"null"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":""}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"[]"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":[]}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":1}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{"name":"p"}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{"name":"p","ip":"::1","port":0}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{"name":"p","ip":"::1","port":"x"}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"p\",\"ip\":\"::1\",\"port\":\"\\u0031\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{"name":"p q","ip":"::1"}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":{"name":"p","ip":"::1%eth0"}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":" {} "}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{ }"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":{}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"null"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"[1]"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":[1]}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":1}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\":1,}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\":1}{}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\":1,\"a\":{\"b\":[1e400,-0,9223372036854775808,\"\\ud83d\"]}}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":{"a":1.5,"b":[true,null],"c":"é"}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"` + strings.Repeat("[", 5) + `"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\":` + strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth) + `}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":{"a":` + strings.Repeat("[", maxJSONDepth-2) + strings.Repeat("]", maxJSONDepth-2) + `}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":{"a":` + strings.Repeat("[", maxJSONDepth-1) + strings.Repeat("]", maxJSONDepth-1) + `}}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":null,"metadata":null}`,
		// JSON in a string, read without unquoting when its only escapes are \" (and in the slow way when not).
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"1.2.3.4\",\"port\":\"80 x\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"1.2.3.4\",\"port\":[1]}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":1}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a\\\"b\",\"ip\":\"::1\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a\\u002eb\",\"ip\":\"::1\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"::1\"\n}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"::1\"\/}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"é\",\"ip\":\"::1\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"NAME\":\"a.b\",\"ip\":\"::1\",\"x\":{\"y\":[true]}}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"::1\"}\""}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"::1\"}}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"::1}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\""}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\":\"a.b\",\"ip\":\"::1\",\"port\":1024,}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"{\"name\" \"a.b\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"peer":"\"{}\""}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\":}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\":1}\""}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\\\"b\":[1,{\"c\":null}],\"d\":\"\\u00e9\"}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"{\"a\":[1,{\"c\":null}],\"d\":\"x\",\"a\":-0.5e1}"}`,
		`{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":"  {\"a\":1}  "}`,
		`{"host":"h","ip":"1.2.3.4\nbackend x","port":80}`,
		`{"host":"-h","ip":"1.2.3.4","port":80}`,
		`{"host":"","ip":"1.2.3.4","port":80}`,
	} {
		if err := sameNodeAsOriginal([]byte(in)); err != nil {
			t.Error(err)
		}
	}
}

// nodeFragments build node-like objects for the properties below.
var (
	nodeKeyFragments   = []string{`"host"`, `"ip"`, `"port"`, `"peer"`, `"metadata"`, `"name"`, `"HOST"`, `"Ip"`, `"hoſt"`, `"\u0070ort"`, `"x"`, `""`}
	nodeValueFragments = []string{
		`"a.example"`, `"app01.example.com"`, `"10.0.0.11"`, `"::1"`, `"fe80::1%eth0"`, `"h x"`, `"-h"`, `""`, `"\u0061"`, "\"a\xff\"",
		`80`, `"80"`, `"+80"`, `0`, `65536`, `80.0`, `1e2`, `-1`, `true`, `null`, `[]`, `{}`, `[1,{"a":null}]`,
		`"{}"`, `" {} "`, `"null"`, `"[1]"`, `"{\"role\": \"master\"}"`, `"{\"n\": 1.5, \"k\": [1, \"x\"], \"n\": -0}"`,
		`"{\"ip\": \"10.0.0.11\", \"name\": \"app01.example.com\", \"port\": 1024}"`,
		`"{\"ip\": \"::1\", \"name\": \"p\", \"port\": \"1025\"}"`, `"{\"name\": \"p\"}"`, `"\u00a0{\"ip\":\"::1\",\"name\":\"p\"}"`,
		`"{\"ip\": \"::1\", \"name\": \"p\", \"port\": \"80 x\"}"`, `"{\"ip\": \"::1\", \"name\": \"p\\\"q\"}"`,
		`"{\"ip\": \"::1\", \"name\": \"p\"} \""`, `"{\"a\": [1, {\"b\": \"c\"}], \"d\": tru}"`, `"{\"a\": \"\\u00e9\"}"`,
		`{"ip": "::1", "name": "p"}`, `{"IP": "::1", "NAME": "p", "port": 0}`, `{"a": {"b": [1, 2.5, "c"]}}`,
	}
)

// genNodeJSON writes a random node-like object.
func genNodeJSON(t *rapid.T) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range rapid.IntRange(0, 7).Draw(t, "fields") {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(rapid.SampledFrom(nodeKeyFragments).Draw(t, "key"))
		b.WriteString(": ")
		b.WriteString(rapid.SampledFrom(nodeValueFragments).Draw(t, "value"))
	}
	b.WriteByte('}')
	return b.String()
}

func TestDecodeNodeMatchesOriginalProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := genNodeJSON(t)
		if rapid.IntRange(0, 3).Draw(t, "mutate") == 0 {
			i := rapid.IntRange(0, len(data)-1).Draw(t, "at")
			data = data[:i] + rapid.SampledFrom([]string{"", "{", "}", ",", `"`, `\`, " ", "x", "\xff"}).Draw(t, "with") + data[i+1:]
		}
		if err := sameNodeAsOriginal([]byte(data)); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeNodeMatchesOriginal: DecodeNode behaves as the original did.
func FuzzDecodeNodeMatchesOriginal(f *testing.F) {
	f.Add(originalNode)
	f.Add(`{"host":"a.example","ip":"::1","port":"8888","peer":{"name":"a.example","ip":"::1"},"metadata":{"n":1.5,"k":[1,"x"]}}`)
	f.Add(`{"hoſt":"a.b","IP":"1.2.3.4","port":"+80","peer":" {\"name\":\"p\",\"ip\":\"::1\"}\u00a0","metadata":"{ }"}`)
	f.Fuzz(func(t *testing.T, data string) {
		if err := sameNodeAsOriginal([]byte(data)); err != nil {
			t.Fatal(err)
		}
	})
}

// origDecodeNodeRenamed is the original DecodeNode, its messages naming
// the type as DecodeNode's do.
func origDecodeNodeRenamed(data []byte) (Node, error) {
	n, err := origDecodeNode(data)
	if err != nil {
		err = fmt.Errorf("%s", strings.ReplaceAll(err.Error(), "model.origWireNode", "model.wireNode"))
	}
	return n, err
}

func origDecodeNode(data []byte) (Node, error) {
	var w origWireNode
	if err := json.Unmarshal(data, &w); err != nil {
		return Node{}, fmt.Errorf("not a JSON object: %v", err)
	}
	return w.node()
}

// origWireNode is a node as JSON holds it; each field is checked by node().
type origWireNode struct {
	Host     json.RawMessage `json:"host"`
	IP       json.RawMessage `json:"ip"`
	Port     json.RawMessage `json:"port"`
	Peer     json.RawMessage `json:"peer"`
	Metadata json.RawMessage `json:"metadata"`
}

type origWirePeer struct {
	Name json.RawMessage `json:"name"`
	IP   json.RawMessage `json:"ip"`
	Port json.RawMessage `json:"port"`
}

func (w *origWireNode) node() (Node, error) {
	var n Node
	var err error
	if n.Host, err = origRawString(w.Host, "host"); err != nil {
		return n, err
	}
	if n.IP, err = origRawString(w.IP, "ip"); err != nil {
		return n, err
	}
	if n.Port, err = origRawPort(w.Port, "port", true, 0); err != nil {
		return n, err
	}
	if !origIsNull(w.Peer) {
		raw, err := origObjectOrString(w.Peer, "peer")
		if err != nil {
			return n, err
		}
		var wp origWirePeer
		if err := json.Unmarshal(raw, &wp); err != nil {
			return n, fmt.Errorf("peer is not a JSON object")
		}
		p := &Peer{}
		if p.Name, err = origRawString(wp.Name, "name"); err != nil {
			return n, fmt.Errorf("peer: %w", err)
		}
		if p.IP, err = origRawString(wp.IP, "ip"); err != nil {
			return n, fmt.Errorf("peer: %w", err)
		}
		if p.Port, err = origRawPort(wp.Port, "port", false, DefaultPeerPort); err != nil {
			return n, fmt.Errorf("peer: %w", err)
		}
		n.Peer = p
	}
	n.Metadata = map[string]any{}
	if !origIsNull(w.Metadata) {
		raw, err := origObjectOrString(w.Metadata, "metadata")
		if err != nil {
			return n, err
		}
		if string(raw) != "{}" {
			d := json.NewDecoder(bytes.NewReader(raw))
			d.UseNumber()
			var m map[string]any
			if err := d.Decode(&m); err != nil || m == nil {
				return n, fmt.Errorf("metadata is not a JSON object")
			}
			for k, v := range m {
				n.Metadata[k] = origFromJSONNumber(v)
			}
		}
	}
	return n, n.Validate()
}

func origIsNull(r json.RawMessage) bool { return len(r) == 0 || string(r) == "null" }

func origFromJSONNumber(x any) any {
	switch v := x.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = origFromJSONNumber(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = origFromJSONNumber(e)
		}
		return v
	}
	return x
}

// origObjectOrString returns the JSON of an object given either directly or as
// a string holding its JSON (the original's encoding).
func origObjectOrString(r json.RawMessage, what string) ([]byte, error) {
	if r[0] == '"' {
		var s string
		if err := json.Unmarshal(r, &s); err != nil {
			return nil, fmt.Errorf("%s: %v", what, err)
		}
		r = json.RawMessage(s)
	}
	r = bytes.TrimSpace(r)
	if len(r) == 0 || r[0] != '{' || !json.Valid(r) {
		return nil, fmt.Errorf("%s is not a JSON object", what)
	}
	return r, nil
}

func origRawString(r json.RawMessage, key string) (string, error) {
	if origIsNull(r) {
		return "", fmt.Errorf("no %s", key)
	}
	if r[0] != '"' {
		return "", fmt.Errorf("%s is not a string", key)
	}
	var s string
	if err := json.Unmarshal(r, &s); err != nil {
		return "", fmt.Errorf("%s is not a string", key)
	}
	return s, nil
}

// origRawPort accepts a number or a digit string, as the original stored either.
func origRawPort(r json.RawMessage, key string, required bool, def int) (int, error) {
	if origIsNull(r) {
		if required {
			return 0, fmt.Errorf("no %s", key)
		}
		return def, nil
	}
	s := string(r)
	if r[0] == '"' {
		if err := json.Unmarshal(r, &s); err != nil {
			return 0, fmt.Errorf("%s: %v", key, err)
		}
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, fmt.Errorf("%s %s is not a port 1..65535", key, r)
	}
	return p, nil
}
