package docparse

import (
	"fmt"
	"strconv"
	"strings"
)

// Release is a minor HAProxy release, e.g. 2.6. Every patch level of a
// release shares its keyword table.
type Release struct {
	Major, Minor int
}

// String returns "major.minor", e.g. "2.6".
func (r Release) String() string {
	return strconv.Itoa(r.Major) + "." + strconv.Itoa(r.Minor)
}

// Before reports whether r is an older release than o.
func (r Release) Before(o Release) bool {
	return r.Major < o.Major || r.Major == o.Major && r.Minor < o.Minor
}

// IsZero reports whether r is the zero Release, which no document has.
func (r Release) IsZero() bool { return r == Release{} }

// ParseRelease reads "major.minor", as in the version line of
// configuration.txt ("version 2.6") or a file name ("2.6").
func ParseRelease(s string) (Release, error) {
	maj, min, ok := strings.Cut(s, ".")
	a, errA := strconv.Atoi(maj)
	b, errB := strconv.Atoi(min)
	if !ok || errA != nil || errB != nil || a < 0 || b < 0 || a > 99 || b > 99 {
		return Release{}, fmt.Errorf("release %q: want MAJOR.MINOR", s)
	}
	return Release{a, b}, nil
}
