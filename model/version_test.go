package model

import "testing"

func TestParseVersion(t *testing.T) {
	ok := []struct {
		in   string
		want Version
	}{
		{"2.6.12", Version{2, 6, 12}},
		{"2.6", Version{2, 6, 0}},
		{" 1.5.12\n", Version{1, 5, 12}},
		{"HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://haproxy.org/\nStatus: long-term supported branch\n", Version{2, 6, 12}},
		{"HA-Proxy version 1.5.12 2015/05/02\nCopyright 2000-2015 Willy Tarreau <willy@haproxy.org>\n", Version{1, 5, 12}},
		// The original's greedy regex read this as (2, 4, 3).
		{"HAProxy version 2.4.22-0ubuntu0.22.04.3 2023/12/04 - https://haproxy.org/", Version{2, 4, 22}},
		{"HAProxy version 2.9-dev3 2023/08/12", Version{2, 9, 0}},
		{"HAProxy version 10.2.1 2030/01/01", Version{10, 2, 1}},
		{"3.0.5+really", Version{3, 0, 5}},
		{"1.4.24", Version{1, 4, 24}},
	}
	for _, c := range ok {
		got, err := ParseVersion(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseVersion(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	bad := []string{"", "2", "2.", "2.6.", "v2.6.12", "2.6.12.1", "HAProxy version", "haproxy: command not found",
		"two words", "HAProxy version x.y", "1234567.1.1"}
	for _, in := range bad {
		if v, err := ParseVersion(in); err == nil {
			t.Errorf("ParseVersion(%q) = %v, want an error", in, v)
		}
	}
}

func TestVersionCompare(t *testing.T) {
	var unknown Version
	if unknown.AtLeast(1, 5) || !unknown.AtLeast(0, 0) {
		t.Error("the zero Version must count as older than 1.5")
	}
	v := Version{2, 6, 12}
	for _, c := range []struct {
		major, minor int
		want         bool
	}{{1, 5, true}, {2, 0, true}, {2, 6, true}, {2, 7, false}, {3, 0, false}} {
		if got := v.AtLeast(c.major, c.minor); got != c.want {
			t.Errorf("%v.AtLeast(%d, %d) = %v", v, c.major, c.minor, got)
		}
	}
	if s := v.String(); s != "2.6.12" {
		t.Errorf("String() = %q", s)
	}
}
