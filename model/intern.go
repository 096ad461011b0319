package model

// internTable holds strings decoded before, and string values boxed.
type internTable struct {
	strs  map[string]string
	boxed map[string]any
}

// Bounds on what an internTable keeps.
const (
	internMaxLen   = 64
	internMaxCount = 4096
)

func (t *internTable) str(b []byte) string {
	if s, ok := t.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= internMaxLen && len(t.strs) < internMaxCount {
		if t.strs == nil {
			t.strs = map[string]string{}
		}
		t.strs[s] = s
	}
	return s
}

func (t *internTable) box(b []byte) any {
	if v, ok := t.boxed[string(b)]; ok {
		return v
	}
	s := string(b)
	var v any = s
	if len(b) <= internMaxLen && len(t.boxed) < internMaxCount {
		if t.boxed == nil {
			t.boxed = map[string]any{}
		}
		t.boxed[s] = v
	}
	return v
}
