package render

import "testing"

func TestCheckQuotes(t *testing.T) {
	for in, wantOK := range map[string]bool{
		`http-request set-header X-A b`:           true,
		`http-request set-header X-A 'b c'`:       true,
		`http-request set-header X-A "b 'c"`:      true,
		`http-request set-header X-A 'b`:          false,
		`http-request set-header X-A "b`:          false,
		`http-request set-header X-A \'b`:         true,
		`http-request set-header X-A a#'b`:        true, // the comment starts at #
		`http-request set-header X-A "${FOO}"`:    true,
		`http-request set-header X-A "${FOO"`:     false,
		`http-request set-header X-A \x41`:        true,
		`http-request set-header X-A \x4`:         false,
		`http-request set-header X-A '\x4'`:       true, // no escapes in single quotes
		`http-request set-header X-A a\`:          true,
		`acl is_x hdr(host) -i 'api.example.com'`: true,
	} {
		if got := checkQuotes(in) == ""; got != wantOK {
			t.Errorf("checkQuotes(%q) ok = %v, want %v (%s)", in, got, wantOK, checkQuotes(in))
		}
	}
}

func TestCheckText(t *testing.T) {
	for in, wantOK := range map[string]bool{
		"mode http":              true,
		"acl x path_beg /zürich": true,
		"a\nb":                   false,
		"a\rb":                   false,
		"a\tb":                   false,
		"a\x00b":                 false,
		"a\x7fb":                 false,
		"a\u0085b":               false,
		"a\u2028b":               false,
		"a\u2029b":               false,
		"a\xffb":                 false,
	} {
		if got := checkText(in) == ""; got != wantOK {
			t.Errorf("checkText(%q) ok = %v, want %v", in, got, wantOK)
		}
	}
}

func TestCheckServerOptions(t *testing.T) {
	for in, wantOK := range map[string]bool{
		"check":                        true,
		"check inter 2000 weight 10":   true,
		"maxconn 100 check":            true,
		"no-check":                     true,
		"bogus":                        false,
		"server x 10.0.0.1:80":         false,
		"check\nserver x 10.0.0.1:80":  false,
		"check agent-send 'unfinished": false,
	} {
		if got := checkServerOptions(in) == ""; got != wantOK {
			t.Errorf("checkServerOptions(%q) ok = %v, want %v", in, got, wantOK)
		}
	}
}
