package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// The exact bytes the original reporter wrote (research §5.2).
const originalNode = `{"host": "app01.example.com", "ip": "10.0.0.11", "metadata": "{\"role\": \"master\"}", "peer": "{\"ip\": \"10.0.0.11\", \"name\": \"app01.example.com\", \"port\": 1024}", "port": 8000}`

func TestNodeWireFormat(t *testing.T) {
	n := Node{Host: "app01.example.com", IP: "10.0.0.11", Port: 8000,
		Peer:     &Peer{Name: "app01.example.com", IP: "10.0.0.11", Port: DefaultPeerPort},
		Metadata: map[string]any{"role": "master"}}
	if got := string(n.Encode()); got != originalNode {
		t.Errorf("Encode:\n got %s\nwant %s", got, originalNode)
	}
	back, err := DecodeNode([]byte(originalNode))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(n, back); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

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

func TestPythonJSON(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1.0, "a": "é\u2028\U0001F600</>&"}, `{"a": "\u00e9\u2028\ud83d\ude00</>&", "b": 1.0}`},
		{[]any{1e16, 1e-5, 0.1, 123456.0, int64(-3), true, nil}, `[1e+16, 1e-05, 0.1, 123456.0, -3, true, null]`},
		{"tab\tquote\"back\\", `"tab\tquote\"back\\"`},
	}
	for _, c := range cases {
		if got := string(pyJSON(c.in)); got != c.want {
			t.Errorf("pyJSON(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Any valid node survives Encode then DecodeNode unchanged.
func TestNodeRoundTrip(t *testing.T) {
	label := rapid.StringMatching(`[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?`)
	rapid.Check(t, func(t *rapid.T) {
		host := strings.Join(rapid.SliceOfN(label, 1, 4).Draw(t, "labels"), ".")
		ip := rapid.SampledFrom([]string{"10.0.0.1", "127.0.0.22", "::1", "2001:db8::7"}).Draw(t, "ip")
		n := Node{Host: host, IP: ip, Port: rapid.IntRange(1, 65535).Draw(t, "port"),
			Metadata: map[string]any{rapid.String().Draw(t, "k"): rapid.String().Draw(t, "v")}}
		if rapid.Bool().Draw(t, "peer") {
			n.Peer = &Peer{Name: host, IP: ip, Port: rapid.IntRange(1, 65535).Draw(t, "peerport")}
		}
		back, err := DecodeNode(n.Encode())
		if err != nil {
			t.Fatalf("%s: %v", n.Encode(), err)
		}
		if diff := cmp.Diff(n, back); diff != "" {
			t.Fatalf("(-want +got):\n%s", diff)
		}
	})
}

func TestDecodeMembershipFile(t *testing.T) {
	m, ds := DecodeMembershipFile("m.json", []byte(`{"web": [`+originalNode+`, {"host":"x","ip":"bad","port":1}], "empty": []}`))
	if len(m["web"].Nodes) != 1 || !m["web"].Known || !m["empty"].Known || len(m["empty"].Nodes) != 0 {
		t.Errorf("membership = %+v", m)
	}
	want := "m.json: web[1]: node dropped: ip \"bad\" is not an IP address\n"
	if ds.String() != want {
		t.Errorf("diagnostics = %q, want %q", ds.String(), want)
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
