package plan

import (
	"fmt"
	"strings"

	"lighthouse/render"
)

// structuralChange says why the loaded config cannot become the desired one
// without a reload, or "" when only servers differ.
//
// The backends whose servers' settings it finds equal go into memo; the
// ones prev has for the same loaded config, with the very same servers, are
// not compared again.
func structuralChange(known bool, loaded, want parsedConfig, runtimeFailed bool, prev, memo *planMemo) string {
	switch {
	case !known:
		return "the config HAProxy runs is not known"
	case runtimeFailed:
		return "a runtime change failed; converge by reloading"
	case loaded.skeleton != want.skeleton:
		return "structural change: " + firstDifference(loaded.skeleton, want.skeleton)
	}
	again := prev.loaded != nil && prev.loaded == memo.loaded
	for _, b := range want.names {
		list, old := want.backends[b], loaded.backends[b]
		if again && sameSlice(prev.checked[b], list) || sameOptions(list, old) {
			memo.checked[b] = list
			continue
		}
		opts := make(map[string]string, len(old))
		for _, s := range old {
			opts[s.Name] = s.Options
		}
		for _, s := range list {
			if o, ok := opts[s.Name]; ok && o != s.Options {
				return fmt.Sprintf("server options of %s/%s changed", b, s.Name)
			}
		}
		memo.checked[b] = list
	}
	return ""
}

// sameSlice reports whether a and b are the very same servers.
func sameSlice(a, b []render.ServerLine) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// sameOptions is the fast path of structuralChange: the same servers in the
// same order with the same options.
func sameOptions(a, b []render.ServerLine) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Options != b[i].Options {
			return false
		}
	}
	return true
}

// firstDifference names the first section that differs between two
// skeletons, and how.
func firstDifference(a, b string) string {
	old, oldOrder := sections(a)
	now, nowOrder := sections(b)
	for _, h := range nowOrder {
		body, ok := old[h]
		if !ok {
			return h + " added"
		}
		if d := lineDifference(body, now[h]); d != "" {
			return d + " in " + h
		}
	}
	for _, h := range oldOrder {
		if _, ok := now[h]; !ok {
			return h + " removed"
		}
	}
	return "section order changed"
}

// sections splits a skeleton into section header → directive lines.
func sections(skeleton string) (map[string][]string, []string) {
	m := map[string][]string{}
	var order []string
	cur := ""
	for _, line := range strings.Split(skeleton, "\n") {
		if line == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			cur = line
			order = append(order, cur)
			m[cur] = nil
			continue
		}
		m[cur] = append(m[cur], strings.TrimSpace(line))
	}
	return m, order
}

func lineDifference(old, now []string) string {
	for i := 0; i < len(old) || i < len(now); i++ {
		switch {
		case i >= len(old):
			return fmt.Sprintf("%q added", now[i])
		case i >= len(now):
			return fmt.Sprintf("%q removed", old[i])
		case old[i] != now[i]:
			return fmt.Sprintf("%q became %q", old[i], now[i])
		}
	}
	return ""
}
