package cluster

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Summary describes what runs where, and what to try.
func (c *Cluster) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Example %q: %s\n\n", c.Example.Name, c.Example.Title)
	fmt.Fprintf(&b, "  %-11s %-11s %s\n", "host", "address", "runs")
	fmt.Fprintf(&b, "  %-11s %-11s %s\n", "zookeeper", "127.0.0.1", "ZooKeeper :"+strconv.Itoa(c.Layout.Port(ZooKeeperPort)))
	for _, h := range c.Example.Hosts {
		hs := c.hosts[h.Name]
		var runs []string
		if h.Redis != 0 {
			runs = append(runs, fmt.Sprintf("redis-server :%d", c.Layout.Port(h.Redis)))
		}
		for _, a := range h.Apps {
			runs = append(runs, fmt.Sprintf("%s :%d", a.Program, c.Layout.Port(a.Port)))
		}
		if hs.config != nil && len(hs.config.Services) > 0 {
			var svc []string
			for _, id := range hs.config.ServiceIDs() {
				svc = append(svc, hs.config.Services[id].Name)
			}
			runs = append(runs, "reporter ("+strings.Join(svc, ", ")+")")
		}
		if hs.config != nil && hs.config.Balancer != nil {
			var ls []string
			for _, l := range listeners(hs.config) {
				ls = append(ls, fmt.Sprintf("%s :%d%s%s", l.name, l.port, l.uri, l.to))
			}
			runs = append(runs, "writer + HAProxy ("+strings.Join(ls, ", ")+")")
		}
		fmt.Fprintf(&b, "  %-11s %-11s %s\n", h.Name, h.IP, strings.Join(runs, "; "))
		if h.Role != "" {
			fmt.Fprintf(&b, "  %-11s %-11s   %s\n", "", "", h.Role)
		}
	}
	fmt.Fprintf(&b, "\nLogs: %s/<host>/<program>.log (ZooKeeper: %s; this output: %s)\n",
		c.runDir, c.Log("", "zookeeper"), filepath.Join(c.runDir, "demo.log"))
	if c.Layout.inPlace() {
		fmt.Fprintf(&b, "Config dirs: examples/%s/<host> (edit one: its writer or reporter follows)\n", c.Example.Name)
	} else {
		fmt.Fprintf(&b, "Config dirs: %s/config/<host> (rewritten from examples/%s)\n", c.runDir, c.Example.Name)
	}
	fmt.Fprintf(&b, "\nMetrics:\n")
	for _, l := range c.metricsSummary() {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if c.Example.Try != nil {
		fmt.Fprintf(&b, "\nTry:\n")
		for _, t := range c.Example.Try(c) {
			fmt.Fprintf(&b, "  %s\n", t)
		}
	}
	return b.String()
}
