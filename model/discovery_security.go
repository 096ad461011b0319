package model

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// DiscoveryAuth is discovery's auth: how a client authenticates its
// ZooKeeper session. The model never reads the credentials file; the shell
// does, when it connects (and `lighthouse validate`, to check its mode).
type DiscoveryAuth struct {
	Scheme          string // "digest", the only one the client supports
	CredentialsFile string // absolute path of a file holding "user:password"
}

// DiscoveryTLS is discovery's tls: TLS to the servers' secureClientPort.
// Verification of the server's certificate is always on.
type DiscoveryTLS struct {
	CAFile string // absolute path of the PEM CA bundle that signs the servers' certificates
	// CertFile and KeyFile are the client's PEM certificate and key for
	// mutual TLS; both or neither.
	CertFile, KeyFile string
	// ServerName is the name verified in the servers' certificates; ""
	// means the host of each server's "host:port".
	ServerName string
}

// ACLEntry is one entry of discovery's acl: who gets which permissions on
// the znodes the reporter creates.
type ACLEntry struct {
	Scheme string // world, auth, digest, ip or x509
	ID     string // "anyone" for world, "" for auth, "user:base64(sha1(user:password))" for digest
	Perms  Perms
}

// Perms is a ZooKeeper permission set; the bits are ZooKeeper's own.
type Perms int32

// The ZooKeeper permissions, with their letters in acl's perms.
const (
	PermRead   Perms = 1 << 0 // r: read the data and list the children
	PermWrite  Perms = 1 << 1 // w: set the data
	PermCreate Perms = 1 << 2 // c: create children
	PermDelete Perms = 1 << 3 // d: delete children
	PermAdmin  Perms = 1 << 4 // a: set the ACL
	PermAll          = PermRead | PermWrite | PermCreate | PermDelete | PermAdmin
)

const permLetters = "rwcda"

// String returns the permission letters in the order rwcda, as zkCli's
// getAcl shows them; "" for none.
func (p Perms) String() string {
	var b strings.Builder
	for i, l := range permLetters {
		if p&(1<<i) != 0 {
			b.WriteRune(l)
		}
	}
	return b.String()
}

// ACLSchemes are the schemes acl accepts.
var ACLSchemes = []string{"auth", "digest", "ip", "world", "x509"}

// RegistrationACL is the ACL the reporter gives the znodes it creates, its
// own and the parents it creates on the way: acl when set; else, with
// auth, all permissions for the session's own identity and read for
// everyone; else all permissions for everyone (as the original did).
func (d Discovery) RegistrationACL() []ACLEntry {
	switch {
	case len(d.ACL) > 0:
		return d.ACL
	case d.Auth != nil:
		return []ACLEntry{{Scheme: "auth", Perms: PermAll}, {Scheme: "world", ID: "anyone", Perms: PermRead}}
	default:
		return []ACLEntry{{Scheme: "world", ID: "anyone", Perms: PermAll}}
	}
}

// At locates a key of the discovery file ("auth.credentials_file").
func (d Discovery) At(key string) Pos { return at(d.Pos.File, d.Lines, key) }

// SameConnection reports whether a client connected for d may stay
// connected for e: the same servers, path, session timeout, credentials,
// ACL and TLS setup.
func (d Discovery) SameConnection(e Discovery) bool {
	return slices.Equal(d.Hosts, e.Hosts) && d.Path == e.Path && d.SessionTimeout == e.SessionTimeout &&
		reflect.DeepEqual(d.Auth, e.Auth) && slices.Equal(d.ACL, e.ACL) && reflect.DeepEqual(d.TLS, e.TLS)
}

// digestIDRE is a digest ACL id: a user name and the base64 of the SHA-1
// of "user:password" (28 characters).
var digestIDRE = regexp.MustCompile(`^[^:\s]+:[A-Za-z0-9+/]{27}=$`)

// ipIDRE is an ip ACL id: an address with an optional prefix length.
var ipIDRE = regexp.MustCompile(`^[0-9A-Fa-f.:]+(/[0-9]{1,3})?$`)

// MaxACLEntries bounds acl.
const MaxACLEntries = 32

// decodeSecurity reads the auth, acl and tls keys of a discovery file.
func decodeSecurity(d *decoder, o *obj, ds *Discovery) []*obj {
	var seen []*obj
	absPath := func(s *obj, key string, required bool) string {
		p, ok := s.word(key, required)
		if !ok {
			return ""
		}
		if !strings.HasPrefix(p, "/") {
			d.errorf(s.values[key], join(s.path, key), "must be an absolute path, got %s", quote(p))
			return ""
		}
		return p
	}
	if _, present := o.values["auth"]; present {
		if a := o.sub("auth"); a != nil {
			seen = append(seen, a)
			auth := &DiscoveryAuth{}
			if sc, ok := a.word("scheme", true); ok {
				if sc != "digest" {
					d.errorf(a.values["scheme"], "auth.scheme", "must be digest (the only scheme the ZooKeeper client supports), got %s", quote(sc))
				} else {
					auth.Scheme = sc
				}
			}
			auth.CredentialsFile = absPath(a, "credentials_file", true)
			a.unknown()
			if auth.Scheme != "" && auth.CredentialsFile != "" {
				ds.Auth = auth
			}
		} else if o.values["auth"].Tag == "!!null" {
			d.errorf(o.values["auth"], "auth", "must be a mapping with scheme and credentials_file")
		}
	}
	if v, ok := o.get("acl"); ok {
		ds.ACL = decodeACL(d, v)
		if ds.ACL != nil && ds.Auth == nil {
			for _, e := range ds.ACL {
				if e.Scheme == "auth" {
					d.errorf(v, "acl", "an entry of scheme auth needs auth: ZooKeeper refuses it from a session without credentials")
					ds.ACL = nil
					break
				}
			}
		}
	}
	if _, present := o.values["tls"]; present {
		if s := o.sub("tls"); s != nil {
			seen = append(seen, s)
			t := &DiscoveryTLS{}
			t.CAFile = absPath(s, "ca_file", true)
			t.CertFile = absPath(s, "cert_file", false)
			t.KeyFile = absPath(s, "key_file", false)
			if sn, ok := s.word("server_name", false); ok {
				t.ServerName = sn
			}
			bad := t.CAFile == "" || s.has("cert_file") && t.CertFile == "" || s.has("key_file") && t.KeyFile == ""
			if (t.CertFile == "") != (t.KeyFile == "") && !bad {
				d.errorf(s.node, "tls", "give both cert_file and key_file (mutual TLS), or neither")
				bad = true
			}
			if s.has("insecure_skip_verify") || s.has("verify") {
				s.get("insecure_skip_verify")
				s.get("verify")
				d.errorf(s.node, "tls", "the server's certificate is always verified; there is no option to turn that off")
				bad = true
			}
			s.unknown()
			if !bad {
				ds.TLS = t
			}
		} else if o.values["tls"].Tag == "!!null" {
			d.errorf(o.values["tls"], "tls", "must be a mapping with at least ca_file")
		}
	}
	return seen
}

// decodeACL reads acl: a list of {scheme, id, perms}. It returns nil when
// any entry is wrong (the default ACL is not a safe stand-in for a wrong one,
// so the file is refused).
func decodeACL(d *decoder, v *yaml.Node) []ACLEntry {
	if v.Kind != sequence {
		d.errorf(v, "acl", "must be a list of {scheme, id, perms}, got %s", kindName(v))
		return nil
	}
	if len(v.Content) == 0 {
		d.errorf(v, "acl", "must list at least one entry (leave acl out for the default)")
		return nil
	}
	if len(v.Content) > MaxACLEntries {
		d.errorf(v, "acl", "must list at most %d entries, got %d", MaxACLEntries, len(v.Content))
		return nil
	}
	var out []ACLEntry
	good := true
	var all Perms
	for i, n := range v.Content {
		n = resolve(n)
		key := fmt.Sprintf("acl[%d]", i)
		if n.Kind != mapping {
			d.errorf(n, key, "must be a mapping {scheme, id, perms}, got %s", kindName(n))
			good = false
			continue
		}
		e := d.object(n, key)
		var a ACLEntry
		sc, ok := e.word("scheme", true)
		if ok && !slices.Contains(ACLSchemes, sc) {
			d.errorf(e.values["scheme"], key+".scheme", "unknown scheme %s; known schemes are %s", quote(sc), strings.Join(ACLSchemes, ", "))
			ok = false
		}
		good = good && ok
		a.Scheme = sc
		id, hasID := e.word("id", false)
		switch sc {
		case "world":
			if hasID && id != "anyone" {
				d.errorf(e.values["id"], key+".id", "must be anyone for scheme world, got %s", quote(id))
				good = false
			}
			id = "anyone"
		case "auth":
			if hasID {
				d.errorf(e.values["id"], key+".id", "scheme auth takes no id: it stands for the reporter's own credentials")
				good = false
			}
			id = ""
		case "digest":
			if !hasID || !digestIDRE.MatchString(id) {
				d.errorf(e.node, key+".id", "scheme digest needs id \"user:HASH\", HASH being base64(sha1(\"user:password\")) (see README, Securing discovery)")
				good = false
			}
		case "ip":
			if !hasID || !ipIDRE.MatchString(id) {
				d.errorf(e.node, key+".id", "scheme ip needs id an address or address/bits")
				good = false
			}
		case "x509":
			if !hasID {
				e.missing("id")
				good = false
			}
		}
		a.ID = id
		if ps, ok := e.word("perms", true); ok {
			p, bad := parsePerms(ps)
			if bad != "" {
				d.errorf(e.values["perms"], key+".perms", "%s, got %s", bad, quote(ps))
				good = false
			}
			a.Perms = p
			all |= p
		} else {
			good = false
		}
		e.unknown()
		out = append(out, a)
	}
	if !good {
		return nil
	}
	if need := PermCreate | PermDelete | PermWrite; all&need != need {
		d.warnf(v, "acl", "no entry grants %s: the reporter cannot create, replace or delete its znodes under an ACL like this", need)
	}
	return out
}

// parsePerms reads permission letters (any of rwcda, each at most once).
func parsePerms(s string) (Perms, string) {
	var p Perms
	for _, r := range s {
		i := strings.IndexRune(permLetters, r)
		if i < 0 {
			return 0, "must be letters among r w c d a (read, write, create, delete, admin)"
		}
		if p&(1<<i) != 0 {
			return 0, "must not repeat a letter"
		}
		p |= 1 << i
	}
	return p, ""
}
