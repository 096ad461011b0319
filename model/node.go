package model

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
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
	if err := validateEndpoint("", "host", n.Host, n.IP, n.Port); err != nil {
		return err
	}
	if p := n.Peer; p != nil {
		return validateEndpoint("peer ", "name", p.Name, p.IP, p.Port)
	}
	return nil
}

// validateEndpoint checks a host name, IP address and port; prefix and
// nameKey name them in the error ("peer " and "name": "peer name ...").
func validateEndpoint(prefix, nameKey, name, ip string, port int) error {
	if !validHostName(name) {
		return fmt.Errorf("%s%s %s is not a valid host name", prefix, nameKey, quote(name))
	}
	if _, err := netip.ParseAddr(ip); err != nil || strings.Contains(ip, "%") {
		return fmt.Errorf("%sip %s is not an IP address", prefix, quote(ip))
	}
	if port < 1 || port > 65535 {
		return fmt.Errorf("%sport %d is out of range 1..65535", prefix, port)
	}
	return nil
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
