package keywords

import (
	"strconv"
	"strings"
)

// Problem returns "" when section accepts the directive line in the table's
// release, and otherwise the message for the error, which names the keyword
// (as Match returns it), the section and the release, and says what the
// tables know that would help:
//
//	"http-after-response" is not a valid directive in a backend section of HAProxy 2.0 (it is accepted from 2.2 on)
//	"nbproc" is not a valid directive in a global section of HAProxy 2.6 (it was removed in 2.5)
//	"bind" is not a valid directive in a backend section of HAProxy 2.6 (it is accepted in frontend and listen sections)
//	"no daemon" is not a valid directive in a global section of HAProxy 2.6 (it cannot be negated)
func (t *Table) Problem(section Section, line string) string {
	kw, ok := t.Match(section, line)
	if ok {
		return ""
	}
	msg := strconv.Quote(kw) + " is not a valid directive in a " + section.String() + " section of HAProxy " + minor(t.Release())
	if h := t.hint(section, line); h != "" {
		msg += " (" + h + ")"
	}
	return msg
}

// hint says which releases or sections accept the keyword that line names,
// or "" when no table has it.
func (t *Table) hint(section Section, line string) string {
	first, after, negated := splitNo(line)
	var sp *spec
	for _, c := range everywhere[first] {
		if matchRest(c, after, c.spec.anyParen()) {
			sp = c.spec
			break
		}
	}
	if sp == nil || !section.valid() {
		return ""
	}
	bit := section.bit()
	here, _ := sp.at(t.rel)
	if negated && here.in&bit != 0 {
		negRuns := sp.runs(func(s span) bool { return s.neg&bit != 0 })
		switch h := history(negRuns, t.rel); {
		case len(negRuns) == 0:
			return "it cannot be negated"
		case strings.HasPrefix(h, "it was removed"):
			return "it cannot be negated since " + strings.TrimPrefix(h, "it was removed in ")
		default:
			return "it cannot be negated in " + minor(t.Release()) + "; " + strings.Replace(h, "it is accepted", "it can be negated", 1)
		}
	}
	h := history(sp.runs(func(s span) bool { return s.in&bit != 0 }), t.rel)
	elsewhere := ""
	if here.in != 0 {
		elsewhere = "in " + sectionPhrase(here.in)
	}
	switch {
	case h != "" && elsewhere != "":
		return h + "; HAProxy " + minor(t.Release()) + " accepts it " + elsewhere
	case elsewhere != "":
		return "it is accepted " + elsewhere
	}
	return h
}

// run is a maximal run of consecutive releases, from to to.
type run struct{ from, to release }

// runs returns the runs of releases whose span of sp satisfies ok.
func (sp *spec) runs(ok func(span) bool) []run {
	var out []run
	for _, s := range sp.spans {
		if !ok(s) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].to+1 == s.from {
			out[n-1].to = s.to
			continue
		}
		out = append(out, run{s.from, s.to})
	}
	return out
}

// history describes runs, none of which holds r, as seen from release r:
// "it is accepted from 2.2 on", "it was removed in 2.5", "it is accepted in
// 1.5 to 2.0 and from 2.8 on". It is "" when runs is empty.
func history(runs []run, r release) string {
	if len(runs) == 0 {
		return ""
	}
	if last := runs[len(runs)-1]; last.to < r {
		return "it was removed in " + minor(releases[last.to+1])
	}
	parts := make([]string, len(runs))
	for i, rn := range runs {
		switch {
		case rn.to == release(len(releases)-1):
			parts[i] = "from " + minor(releases[rn.from]) + " on"
		case rn.from == rn.to:
			parts[i] = "in " + minor(releases[rn.from])
		default:
			parts[i] = "in " + minor(releases[rn.from]) + " to " + minor(releases[rn.to])
		}
	}
	return "it is accepted " + joinAnd(parts)
}

// sectionPhrase names the sections of s: "a backend section", "frontend and
// listen sections".
func sectionPhrase(s sectionSet) string {
	var names []string
	for _, sec := range Sections() {
		if s&sec.bit() != 0 {
			names = append(names, sec.String())
		}
	}
	if len(names) == 1 {
		return "a " + names[0] + " section"
	}
	return joinAnd(names) + " sections"
}

// joinAnd joins words as "a", "a and b", "a, b and c".
func joinAnd(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
