package model

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// DefaultPeerPort is the peer port a reporter announces, as in the original.
const DefaultPeerPort = 1024

// Peer is the HAProxy peer that a reporting host announces.
type Peer struct {
	Name string
	IP   string
	Port int
}

// Node is one member of a cluster, as a reporter registers it in ZooKeeper.
type Node struct {
	Host     string // the reporter's host name (FQDN)
	IP       string
	Port     int
	Peer     *Peer          // nil when the node announced none
	Metadata map[string]any // never nil after DecodeNode
}

// Name is the node's server name in HAProxy: "host:port".
func (n Node) Name() string { return n.Host + ":" + strconv.Itoa(n.Port) }

// Addr is the node's "ip:port" (IPv6 in brackets).
func (n Node) Addr() string {
	return netip.AddrPortFrom(netip.MustParseAddr(n.IP), uint16(n.Port)).String()
}

// validHostName accepts host names as they may appear in a server name:
// letters, digits, _ . and -, not starting with . or -, not ending with -.
func validHostName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for i := 0; i < len(h); i++ {
		switch c := h[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case c == '.' && i > 0:
		case c == '-' && i > 0 && i < len(h)-1:
		default:
			return false
		}
	}
	return true
}

// Validate checks every field that will reach an HAProxy config.
func (n Node) Validate() error {
	if !validHostName(n.Host) {
		return fmt.Errorf("host %q is not a valid host name", n.Host)
	}
	if _, err := netip.ParseAddr(n.IP); err != nil || strings.Contains(n.IP, "%") {
		return fmt.Errorf("ip %q is not an IP address", n.IP)
	}
	if n.Port < 1 || n.Port > 65535 {
		return fmt.Errorf("port %d is out of range 1..65535", n.Port)
	}
	if p := n.Peer; p != nil {
		if !validHostName(p.Name) {
			return fmt.Errorf("peer name %q is not a valid host name", p.Name)
		}
		if _, err := netip.ParseAddr(p.IP); err != nil || strings.Contains(p.IP, "%") {
			return fmt.Errorf("peer ip %q is not an IP address", p.IP)
		}
		if p.Port < 1 || p.Port > 65535 {
			return fmt.Errorf("peer port %d is out of range 1..65535", p.Port)
		}
	}
	return nil
}

// DecodeNode reads a node's znode data. Both the original's format, where
// peer and metadata are JSON-encoded strings, and plain objects are accepted.
// The node is validated: a bad value is an error, never rendered.
func DecodeNode(data []byte) (Node, error) {
	var w wireNode
	if err := json.Unmarshal(data, &w); err != nil {
		return Node{}, fmt.Errorf("not a JSON object: %v", err)
	}
	return w.node()
}

// wireNode is a node as JSON holds it; each field is checked by node().
type wireNode struct {
	Host     json.RawMessage `json:"host"`
	IP       json.RawMessage `json:"ip"`
	Port     json.RawMessage `json:"port"`
	Peer     json.RawMessage `json:"peer"`
	Metadata json.RawMessage `json:"metadata"`
}

type wirePeer struct {
	Name json.RawMessage `json:"name"`
	IP   json.RawMessage `json:"ip"`
	Port json.RawMessage `json:"port"`
}

func (w *wireNode) node() (Node, error) {
	var n Node
	var err error
	if n.Host, err = rawString(w.Host, "host"); err != nil {
		return n, err
	}
	if n.IP, err = rawString(w.IP, "ip"); err != nil {
		return n, err
	}
	if n.Port, err = rawPort(w.Port, "port", true, 0); err != nil {
		return n, err
	}
	if !isNull(w.Peer) {
		raw, err := objectOrString(w.Peer, "peer")
		if err != nil {
			return n, err
		}
		var wp wirePeer
		if err := json.Unmarshal(raw, &wp); err != nil {
			return n, fmt.Errorf("peer is not a JSON object")
		}
		p := &Peer{}
		if p.Name, err = rawString(wp.Name, "name"); err != nil {
			return n, fmt.Errorf("peer: %w", err)
		}
		if p.IP, err = rawString(wp.IP, "ip"); err != nil {
			return n, fmt.Errorf("peer: %w", err)
		}
		if p.Port, err = rawPort(wp.Port, "port", false, DefaultPeerPort); err != nil {
			return n, fmt.Errorf("peer: %w", err)
		}
		n.Peer = p
	}
	n.Metadata = map[string]any{}
	if !isNull(w.Metadata) {
		raw, err := objectOrString(w.Metadata, "metadata")
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
				n.Metadata[k] = fromJSONNumber(v)
			}
		}
	}
	return n, n.Validate()
}

func isNull(r json.RawMessage) bool { return len(r) == 0 || string(r) == "null" }

func fromJSONNumber(x any) any {
	switch v := x.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, e := range v {
			v[k] = fromJSONNumber(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = fromJSONNumber(e)
		}
		return v
	}
	return x
}

// objectOrString returns the JSON of an object given either directly or as
// a string holding its JSON (the original's encoding).
func objectOrString(r json.RawMessage, what string) ([]byte, error) {
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

func rawString(r json.RawMessage, key string) (string, error) {
	if isNull(r) {
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

// rawPort accepts a number or a digit string, as the original stored either.
func rawPort(r json.RawMessage, key string, required bool, def int) (int, error) {
	if isNull(r) {
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

// Encode renders the node in the original's wire format, byte for byte what
// Python's json.dumps(sort_keys=True) wrote: peer and metadata as JSON
// strings, ", " and ": " separators, non-ASCII escaped.
func (n Node) Encode() []byte {
	m := map[string]any{"host": n.Host, "ip": n.IP, "port": int64(n.Port)}
	if n.Peer != nil {
		m["peer"] = string(pyJSON(map[string]any{"ip": n.Peer.IP, "name": n.Peer.Name, "port": int64(n.Peer.Port)}))
	} else {
		m["peer"] = nil
	}
	md := n.Metadata
	if md == nil {
		md = map[string]any{}
	}
	m["metadata"] = string(pyJSON(md))
	return pyJSON(m)
}

// pyJSON encodes plain values as Python's json.dumps(sort_keys=True) does.
func pyJSON(v any) []byte {
	var b bytes.Buffer
	writePy(&b, v)
	return b.Bytes()
}

func writePy(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if x {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case float64:
		b.WriteString(pyFloat(x))
	case string:
		writePyString(b, x)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writePy(b, e)
		}
		b.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writePyString(b, k)
			b.WriteString(": ")
			writePy(b, x[k])
		}
		b.WriteByte('}')
	default:
		writePyString(b, fmt.Sprint(x))
	}
}

func pyFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	a := math.Abs(f)
	if a != 0 && (a >= 1e16 || a < 1e-4) {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Python writes at least two exponent digits, as Go does.
		return s
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

func writePyString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || r > 0x7e:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			if r > 0xffff {
				r -= 0x10000
				fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
			} else {
				fmt.Fprintf(b, `\u%04x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}

// Membership is what discovery knows about every cluster.
type Membership map[string]Members

// Members is the membership of one cluster. Known is false while discovery
// cannot say (unreachable, or not read yet): unknown members never remove a
// server.
type Members struct {
	Known bool
	Nodes []Node
}

// MembershipUpdate is what discovery learned about one cluster. Known false
// means discovery cannot say now (it is unreachable); Nodes are then the last
// known, or nil for "keep what you had".
type MembershipUpdate struct {
	Cluster string
	Known   bool
	Nodes   []Node
}

// DecodeMembershipFile reads a JSON object that maps cluster names to arrays
// of node objects (the input of `lighthouse render` and `lighthouse plan`).
// Bad nodes are dropped with a diagnostic naming the file, the cluster and
// the index. Every cluster listed is known.
func DecodeMembershipFile(file string, data []byte) (Membership, Diagnostics) {
	var raw map[string][]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, Diagnostics{{Severity: Error, File: file, Message: "expected a JSON object of cluster name to array of nodes: " + err.Error()}}
	}
	m := Membership{}
	var ds Diagnostics
	for cluster, items := range raw {
		if !nameRE.MatchString(cluster) {
			ds = append(ds, Diagnostic{Severity: Error, File: file, Message: fmt.Sprintf("cluster name %q may hold only letters, digits and _ . : -; its nodes are dropped", cluster)})
			continue
		}
		mem := Members{Known: true}
		for i, item := range items {
			n, err := DecodeNode(item)
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
