package haproxyapi

import "testing"

func TestFieldsExpandsShorthand(t *testing.T) {
	got := fields("a force-sslv3/tlsv10/tlsv13 b")
	want := []string{"a", "force-sslv3", "force-tlsv10", "force-tlsv13", "b"}
	if len(got) != len(want) {
		t.Fatalf("fields = %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fields = %q, want %q", got, want)
		}
	}
}

// Each release's name is its version, and its lookup set holds its list.
func TestReleases(t *testing.T) {
	for _, r := range releases {
		if r.name+".0" != r.v.String() {
			t.Errorf("release %s is version %s", r.name, r.v)
		}
		if len(r.set) == 0 || len(r.set) > len(r.addServer) {
			t.Errorf("release %s: %d settings looked up, %d listed", r.name, len(r.set), len(r.addServer))
		}
		for _, k := range r.addServer {
			if !r.set[k] {
				t.Errorf("release %s: %s listed but not looked up", r.name, k)
			}
		}
	}
}
