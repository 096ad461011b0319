package haproxyapi

import (
	"testing"

	"lighthouse/model"
)

func v(major, minor int) model.Version { return model.Version{Major: major, Minor: minor} }

func TestFor(t *testing.T) {
	for _, c := range []struct {
		v        model.Version
		release  string
		dynamic  bool
		cookie   bool
		withNote bool
	}{
		{model.Version{}, "", false, false, false},
		{v(1, 5), "", false, false, false},
		{v(2, 3), "", false, false, false},
		{v(2, 4), "2.6", true, false, true},
		{v(2, 6), "2.6", true, false, false},
		{v(2, 7), "2.6", true, false, false},
		{v(2, 8), "2.8", true, false, false},
		{v(3, 0), "3.0", true, true, false},
		{v(3, 1), "3.0", true, true, false},
		{v(3, 2), "3.2", true, true, false},
		{v(3, 4), "3.4", true, true, false},
		{v(3, 6), "3.4", true, true, true},
	} {
		a := For(c.v)
		if a.Release != c.release || a.DynamicServers != c.dynamic || a.CookieAtRuntime() != c.cookie || (a.Note != "") != c.withNote {
			t.Errorf("For(%s) = release %q dynamic %v cookie %v note %q; want %q %v %v note:%v",
				c.v, a.Release, a.DynamicServers, a.CookieAtRuntime(), a.Note, c.release, c.dynamic, c.cookie, c.withNote)
		}
	}
}

func TestRefused(t *testing.T) {
	for _, c := range []struct {
		v       model.Version
		options string
		want    string
	}{
		{v(2, 6), "", ""},
		{v(2, 6), "check inter 2000 weight 10", ""},
		{v(2, 6), "check enabled", ""},
		{v(3, 4), "check enabled", "enabled"},
		{v(2, 6), "cookie app01 check", "cookie"},
		{v(2, 8), "cookie app01 check", "cookie"},
		{v(3, 0), "cookie app01 check", ""},
		{v(2, 6), "check force-tlsv12 ssl verify none", ""},
		{v(2, 6), "init-state up", "init-state"},
		{v(3, 2), "init-state up check", ""},
		{v(3, 4), "check healthcheck hc1", ""},
		{v(3, 2), "check healthcheck hc1", "healthcheck"},
		{v(2, 6), "resolvers dns check", "resolvers"},
		// A value may look like anything; a flag takes none.
		{v(2, 6), "weight resolvers", ""},
		{v(2, 6), "check resolvers", "resolvers"},
	} {
		if got := For(c.v).Refused(c.options); got != c.want {
			t.Errorf("For(%s).Refused(%q) = %q, want %q", c.v, c.options, got, c.want)
		}
	}
}

func TestDynamicBalance(t *testing.T) {
	a := For(v(3, 4))
	for _, c := range []struct {
		algo       string
		consistent bool
		want       bool
	}{
		{"roundrobin", false, true},
		{"leastconn", false, true},
		{"first", false, true},
		{"random", false, true},
		{"static-rr", false, false},
		{"static-rr", true, false},
		{"source", false, false},
		{"source", true, true},
		{"uri", false, false},
		{"url_param", false, false},
		{"hdr(host)", false, false},
		{"hdr(host)", true, true},
		{"rdp-cookie(mstshash)", false, false},
		{"hash", false, false},
	} {
		if got := a.DynamicBalance(c.algo, c.consistent); got != c.want {
			t.Errorf("DynamicBalance(%q, %v) = %v, want %v", c.algo, c.consistent, got, c.want)
		}
	}
	if For(v(2, 2)).DynamicBalance("roundrobin", false) {
		t.Error("2.2 has no dynamic servers")
	}
}
