package model

import (
	"encoding/json"
	"fmt"
)

// Membership is what discovery knows about every cluster.
type Membership map[string]Members

// Members is the membership of one cluster. Known is false while discovery
// cannot say (unreachable, or not read yet): unknown members never remove a
// server.
type Members struct {
	Known bool
	Nodes []Node
}

// MembershipUpdate is what discovery learned about one cluster. Known false
// means discovery cannot say now (it is unreachable); Nodes are then the last
// known, or nil for "keep what you had".
type MembershipUpdate struct {
	Cluster string
	Known   bool
	Nodes   []Node
}

// DecodeMembershipFile reads a JSON object that maps cluster names to arrays
// of node objects (the input of `lighthouse render` and `lighthouse plan`).
// Bad nodes are dropped with a diagnostic naming the file, the cluster and
// the index. Every cluster listed is known.
func DecodeMembershipFile(file string, data []byte) (Membership, Diagnostics) {
	m, ds, err := decodeMembership(file, data)
	if err != nil {
		err = jsonMessage(data, new(map[string][]json.RawMessage), err)
		return nil, Diagnostics{{Severity: Error, File: file, Message: "expected a JSON object of cluster name to array of nodes: " + err.Error()}}
	}
	ds.Sort()
	return m, ds
}

// decodeMembership does the work of DecodeMembershipFile in one pass over
// data; err is set when data is not what encoding/json would decode into
// map[string][]json.RawMessage.
func decodeMembership(file string, data []byte) (Membership, Diagnostics, error) {
	p := jsonParser{data: data}
	m := Membership{}
	if p.peek() == 'n' {
		if err := p.lit("null"); err != nil {
			return nil, nil, err
		}
		return m, nil, p.end()
	}
	if err := p.open('{'); err != nil {
		return nil, nil, err
	}
	d := nodeDecoder{peerChunk: 256, intern: &internTable{}, metas: map[string]map[string]any{}}
	var nodes []Node                     // of the cluster being read
	var byCluster map[string]Diagnostics // a cluster listed twice keeps its last list
	for first := true; ; first = false {
		more, err := p.next('}', first)
		if err != nil {
			return nil, nil, err
		}
		if !more {
			break
		}
		raw, flags, err := p.key()
		if err != nil {
			return nil, nil, err
		}
		cluster := string(p.plain(raw, flags))
		valid := isName(cluster)
		var ds Diagnostics
		if !valid {
			ds = Diagnostics{{Severity: Error, File: file, Message: fmt.Sprintf("cluster name %s %s; its nodes are dropped", quote(cluster), nameRule)}}
		}
		nodes = nodes[:0]
		switch p.peek() {
		case 'n':
			if err := p.lit("null"); err != nil {
				return nil, nil, err
			}
		case '[':
			if err := p.open('['); err != nil {
				return nil, nil, err
			}
			for i := 0; ; i++ {
				more, err := p.next(']', i == 0)
				if err != nil {
					return nil, nil, err
				}
				if !more {
					break
				}
				if !valid {
					if err := p.skip(); err != nil {
						return nil, nil, err
					}
					continue
				}
				n, nerr, err := d.nodeAt(&p)
				if err != nil {
					return nil, nil, err
				}
				if nerr != nil {
					ds = append(ds, Diagnostic{Severity: Error, File: file, Key: fmt.Sprintf("%s[%d]", clip(cluster), i), Message: "node dropped: " + nerr.Error()})
					continue
				}
				nodes = append(nodes, n)
			}
		default:
			return nil, nil, p.fail("expected an array of nodes")
		}
		if valid {
			mem := Members{Known: true}
			if len(nodes) > 0 {
				mem.Nodes = append([]Node(nil), nodes...)
			}
			m[cluster] = mem
		}
		if ds != nil {
			if byCluster == nil {
				byCluster = map[string]Diagnostics{}
			}
			byCluster[cluster] = ds
		} else {
			delete(byCluster, cluster)
		}
	}
	if err := p.end(); err != nil {
		return nil, nil, err
	}
	var ds Diagnostics
	for _, cds := range byCluster {
		ds = append(ds, cds...)
	}
	return m, ds, nil
}
