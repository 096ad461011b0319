package haproxyapi

import "testing"

func TestOpString(t *testing.T) {
	for op, want := range map[Op]string{
		OpAddServer: "add server", OpDelServer: "del server", OpSetWeight: "set server weight", 0: "op 0", OpSetWeight + 1: "op 8",
	} {
		if got := op.String(); got != want {
			t.Errorf("Op(%d).String() = %q, want %q", int(op), got, want)
		}
	}
}
