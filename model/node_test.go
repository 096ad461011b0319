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
