package zk

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"lighthouse/model"
)

// Identity is how this host names itself in the nodes it registers: the
// node's host and the peer's name (Name), and their IP address.
type Identity struct {
	Name string
	IP   string
}

// DetectIdentity finds this host's identity the way the original did
// (Python's socket.getfqdn() and gethostbyname()), unless overridden: name
// is the host name to use ("" to detect it), ip the address ("" to look
// the name up). The result is validated as a node's host and IP are.
//
// Detection: the host name (os.Hostname) is resolved and its first address
// looked up in reverse; the first of those names that contains a dot is
// the FQDN, else the first name, else the host name itself. The IP is the
// first IPv4 address the FQDN resolves to (else the first address). On a
// Debian-style /etc/hosts this is often 127.0.1.1, which no other host can
// reach: that is what the overrides are for.
func DetectIdentity(ctx context.Context, name, ip string) (Identity, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	id := Identity{Name: name, IP: ip}
	if id.Name == "" {
		h, err := os.Hostname()
		if err != nil {
			return id, fmt.Errorf("detect host name: %w", err)
		}
		id.Name = fqdn(ctx, h)
	}
	if id.IP == "" {
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", id.Name)
		if err != nil || len(addrs) == 0 {
			return id, fmt.Errorf("detect host IP: look up %s: %v (give --host-ip)", id.Name, err)
		}
		id.IP = addrs[0].Unmap().String()
		for _, a := range addrs {
			if a.Unmap().Is4() {
				id.IP = a.Unmap().String()
				break
			}
		}
	}
	if a, err := netip.ParseAddr(id.IP); err == nil {
		id.IP = a.Unmap().String()
	}
	if err := (model.Node{Host: id.Name, IP: id.IP, Port: 1}).Validate(); err != nil {
		return id, fmt.Errorf("host identity: %w", err)
	}
	return id, nil
}

func fqdn(ctx context.Context, host string) string {
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil || len(addrs) == 0 {
		return host
	}
	names, err := net.DefaultResolver.LookupAddr(ctx, addrs[0])
	if err != nil || len(names) == 0 {
		return host
	}
	for _, n := range names {
		if n = strings.TrimSuffix(n, "."); strings.Contains(n, ".") {
			return n
		}
	}
	return strings.TrimSuffix(names[0], ".")
}

// Loopback reports whether the identity's IP is a loopback address, which
// other hosts cannot reach (fine for a demo on one machine).
func (id Identity) Loopback() bool {
	a, err := netip.ParseAddr(id.IP)
	return err == nil && a.IsLoopback()
}
