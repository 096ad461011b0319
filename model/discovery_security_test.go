package model

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// auth, acl and tls: optional; parsed into values with their lines; every
// wrong value is a located error, and a wrong acl is never replaced by the
// default.
func TestDiscoverySecurity(t *testing.T) {
	const hash = "abcdefghijklmnopqrstuvwxyz0="
	for _, tc := range []struct {
		name, yaml string
		diag       string // a substring of the diagnostics; "" for none
		acl        []ACLEntry
		tls        *DiscoveryTLS
	}{
		{name: "none", yaml: "", acl: []ACLEntry{{"world", "anyone", PermAll}}},
		{name: "auth default acl", yaml: "auth: {scheme: digest, credentials_file: /etc/lh/zk}\n",
			acl: []ACLEntry{{"auth", "", PermAll}, {"world", "anyone", PermRead}}},
		{name: "digest readers", yaml: "auth: {scheme: digest, credentials_file: /etc/lh/zk}\nacl:\n  - {scheme: auth, perms: rwcda}\n  - {scheme: digest, id: \"writer:" + hash + "\", perms: r}\n",
			acl: []ACLEntry{{"auth", "", PermAll}, {"digest", "writer:" + hash, PermRead}}},
		{name: "tls", yaml: "tls: {ca_file: /ca.pem, cert_file: /c.pem, key_file: /c.key, server_name: zk}\n",
			acl: []ACLEntry{{"world", "anyone", PermAll}}, tls: &DiscoveryTLS{CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/c.key", ServerName: "zk"}},
		{name: "sasl", yaml: "auth: {scheme: sasl, credentials_file: /x}\n", diag: "discovery/zookeeper.yaml:3: auth.scheme: must be digest"},
		{name: "relative file", yaml: "auth: {scheme: digest, credentials_file: zk.secret}\n", diag: `auth.credentials_file: must be an absolute path, got "zk.secret"`},
		{name: "no file", yaml: "auth: {scheme: digest}\n", diag: "auth.credentials_file: required key is missing"},
		{name: "auth acl without auth", yaml: "acl: [{scheme: auth, perms: a}]\n", diag: "acl: an entry of scheme auth needs auth"},
		{name: "unknown scheme", yaml: "acl: [{scheme: sasl, id: x, perms: r}]\n", diag: `acl[0].scheme: unknown scheme "sasl"`},
		{name: "bad perms", yaml: "acl: [{scheme: world, perms: rx}]\n", diag: "acl[0].perms: must be letters among r w c d a"},
		{name: "repeated perm", yaml: "acl: [{scheme: world, perms: rr}]\n", diag: "acl[0].perms: must not repeat a letter"},
		{name: "digest id", yaml: "acl: [{scheme: digest, id: \"writer:secret\", perms: r}]\n", diag: "acl[0].id: scheme digest needs id"},
		{name: "read-only acl", yaml: "acl: [{scheme: world, perms: r}]\n", diag: "warning: acl: no entry grants wcd"},
		{name: "empty acl", yaml: "acl: []\n", diag: "acl: must list at least one entry"},
		{name: "half mtls", yaml: "tls: {ca_file: /ca.pem, cert_file: /c.pem}\n", diag: "tls: give both cert_file and key_file"},
		{name: "no ca", yaml: "tls: {server_name: zk}\n", diag: "tls.ca_file: required key is missing"},
		{name: "no verify", yaml: "tls: {ca_file: /ca.pem, insecure_skip_verify: true}\n", diag: "always verified"},
	} {
		s := Load(nil, files("discovery/zookeeper.yaml", zkYAML+tc.yaml))
		got := s.Diagnostics.String()
		if tc.diag != "" {
			if !strings.Contains(got, tc.diag) {
				t.Errorf("%s: diagnostics %q, want %q", tc.name, got, tc.diag)
			}
			continue
		}
		if got != "" {
			t.Errorf("%s: diagnostics %s", tc.name, got)
			continue
		}
		d := s.Config.Discovery["zookeeper"]
		if diff := cmp.Diff(tc.acl, d.RegistrationACL()); diff != "" {
			t.Errorf("%s: RegistrationACL (-want +got):\n%s", tc.name, diff)
		}
		if diff := cmp.Diff(tc.tls, d.TLS); diff != "" {
			t.Errorf("%s: TLS (-want +got):\n%s", tc.name, diff)
		}
	}
}

// The located keys of the security settings: the shell's errors about the
// files name the line.
func TestDiscoverySecurityLines(t *testing.T) {
	s := Load(nil, files("discovery/zookeeper.yaml", zkYAML+"auth:\n  scheme: digest\n  credentials_file: /etc/lh/zk\ntls:\n  ca_file: /ca.pem\n"))
	d := s.Config.Discovery["zookeeper"]
	if got := d.At("auth.credentials_file").Diag(Error, "x").String(); got != "discovery/zookeeper.yaml:5: auth.credentials_file: x" {
		t.Errorf("auth.credentials_file at %q", got)
	}
	if got := d.At("tls.ca_file").Diag(Error, "x").String(); got != "discovery/zookeeper.yaml:7: tls.ca_file: x" {
		t.Errorf("tls.ca_file at %q", got)
	}
	e := d
	e.Auth = &DiscoveryAuth{Scheme: "digest", CredentialsFile: "/other"}
	if d.SameConnection(e) || !d.SameConnection(d) {
		t.Errorf("SameConnection does not follow auth")
	}
}
