package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

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

// sameMembershipAsOriginal checks that DecodeMembershipFile returns what
// the original did.
func sameMembershipAsOriginal(data []byte) error {
	want, wantDs := origDecodeMembershipFile("m.json", data)
	got, ds := DecodeMembershipFile("m.json", data)
	if diff := diff(wantDs, ds); diff != "" {
		return fmt.Errorf("%q: diagnostics (-original +new):\n%s", data, diff)
	}
	if diff := diff(want, got); diff != "" {
		return fmt.Errorf("%q: membership (-original +new):\n%s", data, diff)
	}
	return nil
}

func TestDecodeMembershipFileMatchesOriginal(t *testing.T) {
	for _, in := range []string{
		``, `null`, ` null `, `[]`, `1`, `"x"`, `{}`, `{"web": null}`, `{"web": []}`, `{"web": {}}`, `{"web": "x"}`,
		`{"web": [null, 1, "x", [], {}, true]}`, `{"web": [` + originalNode + `]} x`, `{"web": [` + originalNode + `],}`,
		`{"web": [` + originalNode + `], "web": [{"host":"x","ip":"bad","port":1}]}`,
		`{"web": [{"host":"x","ip":"bad","port":1}], "web": [` + originalNode + `]}`,
		`{"web": [{"host":"x","ip":"bad","port":1}], "web": null}`,
		`{"we b": [{"host":"x","ip":"bad","port":1}], "we b": [1], "ok": [` + originalNode + `, ` + originalNode + `]}`,
		`{"web": 1, "web": []}`, `{"web": [], "x": 1}`, `{"web": [], "x": [1,]}`,
		`{"\u0077eb": [` + originalNode + `], "web": [` + originalNode + `]}`,
		"{\"w\xffb\": [1]}", `{"": []}`,
		`{"web": [{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":{"a":` + strings.Repeat("[", maxJSONDepth-3) + strings.Repeat("]", maxJSONDepth-3) + `}}]}`,
		`{"web": [{"host":"a.b","ip":"1.2.3.4","port":80,"metadata":{"a":` + strings.Repeat("[", maxJSONDepth-4) + strings.Repeat("]", maxJSONDepth-4) + `}}]}`,
	} {
		if err := sameMembershipAsOriginal([]byte(in)); err != nil {
			t.Error(err)
		}
	}
	if err := sameMembershipAsOriginal(membershipFile(20, 5)); err != nil {
		t.Error(err)
	}
}

func TestDecodeMembershipFileMatchesOriginalProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b strings.Builder
		b.WriteByte('{')
		for i := range rapid.IntRange(0, 4).Draw(t, "clusters") {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(rapid.SampledFrom([]string{`"web"`, `"db"`, `"a b"`, `""`, `"x:y"`}).Draw(t, "cluster"))
			b.WriteString(": ")
			switch rapid.IntRange(0, 5).Draw(t, "value") {
			case 0:
				b.WriteString(rapid.SampledFrom([]string{"null", "1", `"x"`, "{}"}).Draw(t, "other"))
			default:
				b.WriteByte('[')
				for j := range rapid.IntRange(0, 4).Draw(t, "nodes") {
					if j > 0 {
						b.WriteString(", ")
					}
					if rapid.IntRange(0, 5).Draw(t, "odd") == 0 {
						b.WriteString(rapid.SampledFrom([]string{"null", "1", `"x"`, "[]", originalNode}).Draw(t, "item"))
					} else {
						b.WriteString(genNodeJSON(t))
					}
				}
				b.WriteByte(']')
			}
		}
		b.WriteByte('}')
		if err := sameMembershipAsOriginal([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzDecodeMembershipFileMatchesOriginal: DecodeMembershipFile behaves as
// the original did.
func FuzzDecodeMembershipFileMatchesOriginal(f *testing.F) {
	f.Add(`{"web": [` + originalNode + `, {"host":"x","ip":"bad","port":1}], "empty": [], "a b": [1]}`)
	f.Add(`{"web": [null, 1], "web": [` + originalNode + `]}`)
	f.Fuzz(func(t *testing.T, data string) {
		if err := sameMembershipAsOriginal([]byte(data)); err != nil {
			t.Fatal(err)
		}
	})
}

// membershipFile is a membership file of clusters × nodes in the original's
// wire format (each node as Node.Encode writes it).
func membershipFile(clusters, nodes int) []byte {
	var b bytes.Buffer
	b.WriteString("{")
	for i := range clusters {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n%q: [", fmt.Sprintf("cluster%04d", i))
		for j := range nodes {
			if j > 0 {
				b.WriteString(",")
			}
			k := i*nodes + j
			host := fmt.Sprintf("host%04d-%02d.example.com", i, j)
			ip := fmt.Sprintf("10.%d.%d.%d", k>>16&0xff, k>>8&0xff, k&0xff)
			n := Node{Host: host, IP: ip, Port: 8000 + j%100,
				Peer:     &Peer{Name: host, IP: ip, Port: DefaultPeerPort},
				Metadata: map[string]any{"version": "1.0"}}
			b.WriteString("\n  ")
			b.Write(n.Encode())
		}
		b.WriteString("]")
	}
	b.WriteString("\n}\n")
	return b.Bytes()
}

func BenchmarkDecodeMembershipFile(b *testing.B) {
	data := membershipFile(1000, 50)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		m, ds := DecodeMembershipFile("membership.json", data)
		if len(ds) != 0 || len(m) != 1000 {
			b.Fatalf("%d clusters, %v", len(m), ds)
		}
	}
}

// origDecodeMembershipFile is the original DecodeMembershipFile.
func origDecodeMembershipFile(file string, data []byte) (Membership, Diagnostics) {
	var raw map[string][]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, Diagnostics{{Severity: Error, File: file, Message: "expected a JSON object of cluster name to array of nodes: " + err.Error()}}
	}
	m := Membership{}
	var ds Diagnostics
	for cluster, items := range raw {
		if !isName(cluster) {
			ds = append(ds, Diagnostic{Severity: Error, File: file, Message: fmt.Sprintf("cluster name %s %s; its nodes are dropped", quote(cluster), nameRule)})
			continue
		}
		mem := Members{Known: true}
		for i, item := range items {
			n, err := origDecodeNodeRenamed(item)
			if err != nil {
				ds = append(ds, Diagnostic{Severity: Error, File: file, Key: fmt.Sprintf("%s[%d]", cluster, i), Message: "node dropped: " + err.Error()})
				continue
			}
			mem.Nodes = append(mem.Nodes, n)
		}
		m[cluster] = mem
	}
	ds.Sort()
	return m, ds
}
