package resp

import (
	"bufio"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEncode(t *testing.T) {
	got := string(Encode("HINCRBY", "widgets", "foo", "1"))
	want := "*4\r\n$7\r\nHINCRBY\r\n$7\r\nwidgets\r\n$3\r\nfoo\r\n$1\r\n1\r\n"
	if got != want {
		t.Errorf("Encode = %q, want %q", got, want)
	}
}

func TestRead(t *testing.T) {
	cases := []struct {
		in   string
		want Reply
	}{
		{"+PONG\r\n", Reply{Kind: SimpleString, Str: "PONG"}},
		{":42\r\n", Reply{Kind: Integer, Int: 42}},
		{"$3\r\nfoo\r\n", Reply{Kind: BulkString, Str: "foo"}},
		{"$0\r\n\r\n", Reply{Kind: BulkString}},
		{"$-1\r\n", Reply{Kind: BulkString, Nil: true}},
		{"*-1\r\n", Reply{Kind: Array, Nil: true}},
		{"*2\r\n$3\r\nfoo\r\n:1\r\n", Reply{Kind: Array, Elems: []Reply{{Kind: BulkString, Str: "foo"}, {Kind: Integer, Int: 1}}}},
		{"$4\r\na\r\nb\r\n", Reply{Kind: BulkString, Str: "a\r\nb"}},
	}
	for _, c := range cases {
		got, err := Read(bufio.NewReader(strings.NewReader(c.in)))
		if err != nil {
			t.Errorf("Read(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Read(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestReadErrors(t *testing.T) {
	_, err := Read(bufio.NewReader(strings.NewReader("-ERR wrong type\r\n")))
	var re Error
	if !errors.As(err, &re) || string(re) != "ERR wrong type" {
		t.Errorf("error reply: got %v", err)
	}
	for _, in := range []string{"", "+PONG", "?x\r\n", ":x\r\n", "$5\r\nab\r\n", "$-2\r\n", "*1\r\n", "$2\r\nabcd"} {
		if _, err := Read(bufio.NewReader(strings.NewReader(in))); err == nil {
			t.Errorf("Read(%q): no error", in)
		}
	}
}
