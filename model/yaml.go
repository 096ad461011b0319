package model

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// decoder collects located diagnostics while reading one YAML file.
type decoder struct {
	file  string
	diags Diagnostics
}

func (d *decoder) add(sev Severity, n *yaml.Node, key, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.diags = append(d.diags, Diagnostic{Severity: sev, File: d.file, Line: line, Key: clip(key), Message: fmt.Sprintf(format, args...)})
}

func (d *decoder) errorf(n *yaml.Node, key, format string, args ...any) {
	d.add(Error, n, key, format, args...)
}

func (d *decoder) warnf(n *yaml.Node, key, format string, args ...any) {
	d.add(Warning, n, key, format, args...)
}

// parseYAML parses one document. It returns nil (with a diagnostic) when the
// bytes are not YAML or the document is not a mapping.
func (d *decoder) parseYAML(data []byte) *obj {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		line := 0
		msg := err.Error()
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = strings.TrimSpace(yamlLineRE.ReplaceAllString(msg, ""))
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		d.diags = append(d.diags, Diagnostic{Severity: Error, File: d.file, Line: line, Message: "invalid YAML: " + msg})
		return nil
	}
	if len(doc.Content) == 0 {
		d.errorf(nil, "", "file is empty; expected a mapping")
		return nil
	}
	if !d.checkAliases(doc.Content[0]) {
		return nil
	}
	root := resolve(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		d.errorf(root, "", "expected a mapping at the top level, got %s", kindName(root))
		return nil
	}
	return d.object(root, "")
}

// Alias expansion is capped: expanded, a file may hold at most
// aliasFactor times its own nodes, or minAliasBudget nodes when that is
// more. A few hundred bytes of nested aliases would otherwise expand to
// billions of values.
const (
	aliasFactor    = 10
	minAliasBudget = 10_000
)

// checkAliases reports a document whose aliases refer to themselves or
// expand it beyond the cap, at the alias where the expanded count crosses
// it. It costs one pass over the document's own nodes.
func (d *decoder) checkAliases(root *yaml.Node) bool {
	own := 0
	walkOwn(root, func(*yaml.Node) { own++ })
	budget := max(aliasFactor*own, minAliasBudget)
	// size is the expanded node count of each node visited, at most
	// budget+1; -1 while it is being counted, to catch cycles.
	size := map[*yaml.Node]int{}
	var cyclic *yaml.Node
	var expanded func(n *yaml.Node) int
	expanded = func(n *yaml.Node) int {
		if v, ok := size[n]; ok {
			if v < 0 && cyclic == nil {
				cyclic = n
			}
			return max(v, 0)
		}
		size[n] = -1
		total := 1
		if n.Kind == yaml.AliasNode {
			total = 0
			if n.Alias != nil {
				total = expanded(n.Alias)
			}
		}
		for _, c := range n.Content {
			total = min(total+expanded(c), budget+1)
		}
		size[n] = total
		return total
	}
	total := 0
	var stop bool
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if stop {
			return
		}
		if n.Kind == yaml.AliasNode {
			total += expanded(n)
			switch {
			case cyclic != nil:
				d.errorf(n, path, "alias *%s refers to a value that contains it", clip(n.Value))
				stop = true
			case total > budget:
				d.errorf(n, path, "aliases expand this file beyond %d values (%d× its %d own, at least %d); YAML alias expansion is capped", budget, aliasFactor, own, minAliasBudget)
				stop = true
			}
			return
		}
		total++
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				walk(n.Content[i], path)
				walk(n.Content[i+1], join(path, clip(resolveKey(n.Content[i]))))
			}
		default:
			for i, c := range n.Content {
				if n.Kind == yaml.SequenceNode {
					walk(c, fmt.Sprintf("%s[%d]", path, i))
				} else {
					walk(c, path)
				}
			}
		}
	}
	walk(root, "")
	return !stop
}

// walkOwn calls f on n and every node under it, not following aliases.
func walkOwn(n *yaml.Node, f func(*yaml.Node)) {
	f(n)
	for _, c := range n.Content {
		walkOwn(c, f)
	}
}

// resolveKey is the text of a mapping key, "" when it is not a scalar.
func resolveKey(k *yaml.Node) string {
	if k.Kind == yaml.ScalarNode {
		return k.Value
	}
	return ""
}

var yamlLineRE = regexp.MustCompile(`(?:yaml: )?line (\d+): `)

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	n = resolve(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return quote(n.Value)
	}
	return "nothing"
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

const (
	sequence   = yaml.SequenceNode
	mapping    = yaml.MappingNode
	scalarKind = yaml.ScalarNode
)
