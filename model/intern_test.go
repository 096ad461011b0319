package model

import (
	"strconv"
	"strings"
	"testing"
)

func TestInternTable(t *testing.T) {
	var tab internTable
	for i := range 2 * internMaxCount {
		k := []byte(strconv.Itoa(i % (internMaxCount + 10)))
		if s := tab.str(k); s != string(k) {
			t.Fatalf("str(%s) = %s", k, s)
		}
		if v := tab.box(k); v != string(k) {
			t.Fatalf("box(%s) = %v", k, v)
		}
	}
	long := []byte(strings.Repeat("x", internMaxLen+1))
	if tab.str(long) != string(long) || tab.box(long) != string(long) {
		t.Fatal("long string changed")
	}
	if len(tab.strs) > internMaxCount || len(tab.boxed) > internMaxCount {
		t.Errorf("holds %d strings, %d boxed, more than %d", len(tab.strs), len(tab.boxed), internMaxCount)
	}
}
