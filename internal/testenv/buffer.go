package testenv

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer collects output that something writes while the test reads it (a
// log handler, a process's stdout): safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Lines returns the lines written so far that hold every one of words (all
// of them when none is given).
func (l *Buffer) Lines(words ...string) []string {
	var out []string
next:
	for _, line := range strings.Split(strings.TrimSuffix(l.String(), "\n"), "\n") {
		for _, w := range words {
			if !strings.Contains(line, w) {
				continue next
			}
		}
		out = append(out, line)
	}
	return out
}
