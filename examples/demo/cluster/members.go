package cluster

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"lighthouse/model"
)

// expected counts the nodes each cluster should have: every port of every
// service of every host.
func (c *Cluster) expected() map[string]int {
	out := map[string]int{}
	for _, hs := range c.hosts {
		if hs.config == nil {
			continue
		}
		for _, s := range hs.config.Services {
			out[s.Name] += len(s.Ports)
		}
		for n := range hs.config.Clusters {
			out[n] += 0
		}
	}
	return out
}

// followMembers keeps c.members up to date and reports every change.
func (c *Cluster) followMembers() {
	defer c.bg.Done()
	for {
		var u model.MembershipUpdate
		select {
		case <-c.quit:
			return
		case u = <-c.watcher.Updates():
		}
		if !u.Known {
			continue
		}
		names := nodeNames(u.Nodes)
		c.mu.Lock()
		old := nodeNames(c.members[u.Cluster])
		_, seen := c.members[u.Cluster]
		c.members[u.Cluster] = append([]model.Node(nil), u.Nodes...)
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
		if slices.Equal(old, names) && seen {
			continue
		}
		var diff []string
		for _, n := range names {
			if !slices.Contains(old, n) {
				diff = append(diff, "+"+n)
			}
		}
		for _, n := range old {
			if !slices.Contains(names, n) {
				diff = append(diff, "-"+n)
			}
		}
		if len(diff) == 0 || c.stopping.Load() {
			continue
		}
		c.say("zookeeper", "cluster %s: %s → %d node(s)", u.Cluster, strings.Join(diff, " "), len(names))
	}
}

func nodeNames(nodes []model.Node) []string {
	out := make([]string, 0, len(nodes))
	for _, n := range nodes {
		out = append(out, fmt.Sprintf("%s:%d", n.Host, n.Port))
	}
	sort.Strings(out)
	return out
}

// Members returns a cluster's nodes as ZooKeeper last said.
func (c *Cluster) Members(cluster string) []model.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]model.Node(nil), c.members[cluster]...)
}

// MemberNames returns a cluster's nodes as "host:port", sorted.
func (c *Cluster) MemberNames(cluster string) []string { return nodeNames(c.Members(cluster)) }

// WaitMembers waits until cond holds for the membership (checked after
// every change), or ctx ends.
func (c *Cluster) WaitMembers(ctx context.Context, cond func(members func(cluster string) []string) bool) error {
	for {
		c.mu.Lock()
		ch := c.changed
		c.mu.Unlock()
		if cond(c.MemberNames) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}
