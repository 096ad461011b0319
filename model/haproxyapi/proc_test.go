package haproxyapi

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"lighthouse/model"
)

// TestParseProc reads the captured answers of testdata/show_proc*.txt as
// 2.6 lists them (Debian's 2.6.12).
func TestParseProc(t *testing.T) {
	answers26 := AnswersFor(model.Version{Major: 2, Minor: 6, Patch: 12})
	for _, tc := range []struct {
		file string
		want ProcList
	}{
		{"show_proc.txt", ProcList{
			Master:  Proc{PID: 30405, Type: "master", Reloads: 0, Uptime: "0d00h00m01s", Version: "2.6.12-1+deb12u4"},
			Workers: []Proc{{PID: 30406, Type: "worker", Reloads: 0, Uptime: "0d00h00m01s", Version: "2.6.12-1+deb12u4"}},
		}},
		{"show_proc_old_worker.txt", ProcList{
			Master:     Proc{PID: 30405, Type: "master", Reloads: 1, Uptime: "0d00h00m07s", Version: "2.6.12-1+deb12u4"},
			Workers:    []Proc{{PID: 30464, Type: "worker", Reloads: 0, Uptime: "0d00h00m00s", Version: "2.6.12-1+deb12u4"}},
			OldWorkers: []Proc{{PID: 30406, Type: "worker", Reloads: 1, Uptime: "0d00h00m07s", Version: "2.6.12-1+deb12u4"}},
		}},
		{"show_proc_failed.txt", ProcList{
			Master:     Proc{PID: 30405, Type: "master", Reloads: 2, Uptime: "0d00h00m07s", Version: "2.6.12-1+deb12u4"},
			Failed:     1,
			Workers:    []Proc{{PID: 30464, Type: "worker", Reloads: 1, Uptime: "0d00h00m00s", Version: "2.6.12-1+deb12u4"}},
			OldWorkers: []Proc{{PID: 30406, Type: "worker", Reloads: 2, Uptime: "0d00h00m07s", Version: "2.6.12-1+deb12u4"}},
		}},
	} {
		answer, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseProc(string(answer), answers26)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.file, diff)
		}
	}
	if _, err := ParseProc("Unknown command, but maybe one of the following ones is a better match:\n", answers26); err == nil {
		t.Error("ParseProc accepted an unknown-command answer")
	}
}
