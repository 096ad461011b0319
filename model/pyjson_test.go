package model

import "testing"

func TestPythonJSON(t *testing.T) {
	cases := []struct {
		in   any
		want string
	}{
		{map[string]any{"b": 1.0, "a": "é\u2028\U0001F600</>&"}, `{"a": "\u00e9\u2028\ud83d\ude00</>&", "b": 1.0}`},
		{[]any{1e16, 1e-5, 0.1, 123456.0, int64(-3), true, nil}, `[1e+16, 1e-05, 0.1, 123456.0, -3, true, null]`},
		{"tab\tquote\"back\\", `"tab\tquote\"back\\"`},
	}
	for _, c := range cases {
		if got := string(pyJSON(c.in)); got != c.want {
			t.Errorf("pyJSON(%#v) = %s, want %s", c.in, got, c.want)
		}
	}
}
