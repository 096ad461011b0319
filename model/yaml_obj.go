package model

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// obj is a YAML mapping being read; it remembers which keys were used so that
// the rest can be reported as unknown.
type obj struct {
	d      *decoder
	node   *yaml.Node
	path   string
	keys   []string
	keyN   map[string]*yaml.Node
	values map[string]*yaml.Node
	used   map[string]bool
}

func (d *decoder) object(n *yaml.Node, path string) *obj {
	o := &obj{d: d, node: n, path: path, keyN: map[string]*yaml.Node{}, values: map[string]*yaml.Node{}, used: map[string]bool{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		if _, dup := o.values[k.Value]; dup {
			d.errorf(k, join(path, k.Value), "key appears twice")
			continue
		}
		o.keys = append(o.keys, k.Value)
		o.keyN[k.Value] = k
		o.values[k.Value] = v
	}
	return o
}

func (o *obj) pos(key string) Pos {
	line := o.node.Line
	if k, ok := o.keyN[key]; ok {
		line = k.Line
	}
	return Pos{File: o.d.file, Line: line, Key: join(o.path, key)}
}

// get returns the value of key, marking it used; null counts as absent.
func (o *obj) get(key string) (*yaml.Node, bool) {
	if o == nil {
		return nil, false
	}
	v, ok := o.values[key]
	o.used[key] = true
	if !ok || (v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
		return nil, false
	}
	return v, true
}

func (o *obj) has(key string) bool {
	_, ok := o.values[key]
	return ok
}

func (o *obj) missing(key string) {
	o.d.errorf(o.node, join(o.path, key), "required key is missing")
}

// unknown warns about every key that no reader asked for.
func (o *obj) unknown() {
	for _, k := range o.keys {
		if !o.used[k] {
			o.d.warnf(o.keyN[k], join(o.path, k), "unknown key, ignored")
		}
	}
}

// sub reads a nested mapping; nil when absent or not a mapping.
func (o *obj) sub(key string) *obj {
	v, ok := o.get(key)
	if !ok {
		return nil
	}
	if v.Kind != yaml.MappingNode {
		o.d.errorf(v, join(o.path, key), "must be a mapping, got %s", kindName(v))
		return nil
	}
	return o.d.object(v, join(o.path, key))
}

// scalar returns the text of a scalar value.
func (o *obj) scalar(key string, required bool) (*yaml.Node, string, bool) {
	v, ok := o.get(key)
	if !ok {
		if required {
			o.missing(key)
		}
		return nil, "", false
	}
	if v.Kind != yaml.ScalarNode {
		o.d.errorf(v, join(o.path, key), "must be a single value, got %s", kindName(v))
		return nil, "", false
	}
	return v, v.Value, true
}

// str reads a string that may reach HAProxy or ZooKeeper: it must hold no
// control characters. An empty string is an error.
func (o *obj) str(key string, required bool) (string, bool) {
	v, s, ok := o.scalar(key, required)
	if !ok {
		return "", false
	}
	if v.Tag != "!!str" && v.Tag != "!!int" && v.Tag != "!!float" {
		o.d.errorf(v, join(o.path, key), "must be a string, got %s", kindName(v))
		return "", false
	}
	if msg := checkText(s); msg != "" {
		o.d.errorf(v, join(o.path, key), "%s", msg)
		return "", false
	}
	if strings.TrimSpace(s) == "" {
		o.d.errorf(v, join(o.path, key), "must not be empty")
		return "", false
	}
	return s, true
}

// word reads a string that must be a single token (no whitespace), such as a
// name, a path or an address.
func (o *obj) word(key string, required bool) (string, bool) {
	s, ok := o.str(key, required)
	if !ok {
		return "", false
	}
	if strings.ContainsAny(s, " \t") {
		o.d.errorf(o.values[key], join(o.path, key), "must not contain whitespace, got %s", quote(s))
		return "", false
	}
	return s, true
}

// checkText returns a message when s holds a newline or another control
// character, which could split or add HAProxy directives.
func checkText(s string) string {
	for _, r := range s {
		if r == '\n' || r == '\r' {
			return fmt.Sprintf("must not contain a line break, got %s", quote(s))
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == utf8.RuneError {
			return fmt.Sprintf("must not contain control characters, got %s", quote(s))
		}
	}
	return ""
}

// integer reads an integer in [lo, hi]; digit strings are accepted, as the
// original converted ports with int().
func (o *obj) integer(key string, required bool, lo, hi int, what string) (int, bool) {
	v, s, ok := o.scalar(key, required)
	if !ok {
		return 0, false
	}
	return o.d.intValue(v, join(o.path, key), s, lo, hi, what)
}

func (d *decoder) intValue(v *yaml.Node, key, s string, lo, hi int, what string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || (v.Tag != "!!int" && v.Tag != "!!str") || n < lo || n > hi {
		d.errorf(v, key, "must be %s %d..%d, got %s", what, lo, hi, kindName(v))
		return 0, false
	}
	return n, true
}

func (o *obj) port(key string, required bool) (int, bool) {
	return o.integer(key, required, 1, 65535, "an integer")
}

func (o *obj) boolean(key string) (bool, bool) {
	v, s, ok := o.scalar(key, false)
	if !ok {
		return false, false
	}
	if v.Tag != "!!bool" {
		o.d.errorf(v, join(o.path, key), "must be true or false, got %s", kindName(v))
		return false, false
	}
	return s == "true" || s == "True" || s == "TRUE", true
}

// seconds reads a duration: a number of seconds, or a Go duration ("1500ms").
func (o *obj) seconds(key string, required bool) (time.Duration, bool) {
	v, s, ok := o.scalar(key, required)
	if !ok {
		return 0, false
	}
	var dur time.Duration
	switch v.Tag {
	case "!!int", "!!float":
		f, err := strconv.ParseFloat(s, 64)
		if err == nil && f > 0 && f < math.MaxInt64/float64(time.Second) {
			dur = time.Duration(f * float64(time.Second))
		}
	case "!!str":
		dur, _ = time.ParseDuration(s)
	}
	if dur <= 0 {
		o.d.errorf(v, join(o.path, key), "must be a positive number of seconds or a duration like \"1500ms\", got %s", kindName(v))
		return 0, false
	}
	return dur, true
}

// secondsUpTo is seconds with an upper bound: a larger value is a located
// error and not returned.
func (o *obj) secondsUpTo(key string, most time.Duration) (time.Duration, bool) {
	dur, ok := o.seconds(key, false)
	if ok && dur > most {
		v, _ := o.get(key)
		o.d.errorf(v, join(o.path, key), "must be at most %v, got %v", most, dur)
		return 0, false
	}
	return dur, ok
}

// lines reads a list of HAProxy directive lines.
func (o *obj) lines(key string) ([]Line, bool) {
	v, ok := o.get(key)
	if !ok {
		return nil, true
	}
	if v.Kind != yaml.SequenceNode {
		o.d.errorf(v, join(o.path, key), "must be a list of directive lines, got %s", kindName(v))
		return nil, false
	}
	var out []Line
	good := true
	for i, item := range v.Content {
		item = resolve(item)
		k := fmt.Sprintf("%s[%d]", join(o.path, key), i)
		if item.Kind != yaml.ScalarNode || item.Tag == "!!null" {
			o.d.errorf(item, k, "must be a directive line (a string), got %s", kindName(item))
			good = false
			continue
		}
		if msg := checkText(item.Value); msg != "" {
			o.d.errorf(item, k, "%s", msg)
			good = false
			continue
		}
		text := strings.TrimSpace(item.Value)
		if text == "" {
			o.d.errorf(item, k, "must not be empty")
			good = false
			continue
		}
		out = append(out, Line{Text: text, Pos: Pos{File: o.d.file, Line: item.Line, Key: k}})
	}
	return out, good
}

// toValue converts a YAML node into plain Go values (for metadata),
// reporting each value that cannot be published at its line and key: a
// number must be finite (JSON has no NaN or Infinity, and the writer drops
// a node that holds one). checkAliases has bounded the values it visits.
func (d *decoder) toValue(n *yaml.Node, key string) (any, bool) {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		m := map[string]any{}
		good := true
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i]).Value
			v, ok := d.toValue(n.Content[i+1], join(key, k))
			good = good && ok
			m[k] = v
		}
		return m, good
	case yaml.SequenceNode:
		l := []any{}
		good := true
		for i, c := range n.Content {
			v, ok := d.toValue(c, fmt.Sprintf("%s[%d]", key, i))
			good = good && ok
			l = append(l, v)
		}
		return l, good
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			d.errorf(n, key, "%s", clip(err.Error()))
			return nil, false
		}
		switch x := v.(type) {
		case int:
			return int64(x), true
		case uint64:
			return float64(x), true
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				d.errorf(n, key, "must be a finite number, got %s", kindName(n))
				return nil, false
			}
			return x, true
		case string, bool, int64, nil:
			return x, true
		default:
			return fmt.Sprint(x), true
		}
	}
	d.errorf(n, key, "unsupported YAML value")
	return nil, false
}
