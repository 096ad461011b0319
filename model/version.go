package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is an HAProxy version: the one the config is rendered for, which
// decides the directives, the peers sections and the runtime API used. The zero Version means "unknown" and counts
// as older than every real release, as in the original (which treated an
// undetectable version as pre-1.5).
type Version struct {
	Major, Minor, Patch int
}

// String returns "major.minor.patch", e.g. "2.6.12".
func (v Version) String() string {
	return strconv.Itoa(v.Major) + "." + strconv.Itoa(v.Minor) + "." + strconv.Itoa(v.Patch)
}

// AtLeast reports whether v is major.minor or newer.
func (v Version) AtLeast(major, minor int) bool {
	return v.Major > major || v.Major == major && v.Minor >= minor
}

// ParseVersion reads an HAProxy version. It accepts a bare version
// ("2.6.12", "2.6", "1.5.12") or the output of `haproxy -v`, whose first
// line reads "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - https://..."
// ("HA-Proxy version ..." before 1.9). A distribution or development suffix
// after the numbers ("-1+deb12u4", "-0ubuntu0.22.04.3", "-dev3") is ignored;
// unlike the original's greedy regular expression it never leaks into the
// numbers. A missing patch level reads as 0.
func ParseVersion(s string) (Version, error) {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	fields := strings.Fields(line)
	tok := ""
	for i, f := range fields {
		if strings.EqualFold(f, "version") && i+1 < len(fields) {
			tok = fields[i+1]
			break
		}
	}
	if tok == "" && len(fields) == 1 {
		tok = fields[0]
	}
	if tok == "" {
		return Version{}, fmt.Errorf("no HAProxy version in %q", line)
	}
	v, err := parseVersionToken(tok)
	if err != nil {
		return Version{}, fmt.Errorf("HAProxy version %q: %v", tok, err)
	}
	return v, nil
}

// parseVersionToken reads "MAJOR.MINOR[.PATCH][SUFFIX]" where SUFFIX starts
// with a character that is neither a digit nor a dot.
func parseVersionToken(tok string) (Version, error) {
	var parts [3]int
	n := 0
	i := 0
	for n < 3 {
		j := i
		for j < len(tok) && tok[j] >= '0' && tok[j] <= '9' {
			j++
		}
		if j == i {
			return Version{}, fmt.Errorf("expected a number at position %d", i+1)
		}
		if j-i > 6 {
			return Version{}, fmt.Errorf("number too long at position %d", i+1)
		}
		parts[n], _ = strconv.Atoi(tok[i:j])
		n++
		i = j
		if i == len(tok) || tok[i] != '.' {
			break
		}
		i++ // the dot
		if n == 3 {
			return Version{}, fmt.Errorf("more than three numbers")
		}
	}
	if n < 2 {
		return Version{}, fmt.Errorf("expected MAJOR.MINOR[.PATCH]")
	}
	return Version{Major: parts[0], Minor: parts[1], Patch: parts[2]}, nil
}

// Compare returns -1, 0 or +1 as v is older than, the same as or newer than
// w, by major, minor and patch.
func (v Version) Compare(w Version) int {
	for _, d := range [3]int{v.Major - w.Major, v.Minor - w.Minor, v.Patch - w.Patch} {
		if d < 0 {
			return -1
		}
		if d > 0 {
			return 1
		}
	}
	return 0
}
