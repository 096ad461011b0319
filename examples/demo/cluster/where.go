package cluster

import (
	"net"
	"path/filepath"
	"strconv"

	"lighthouse/model"
)

// RunDir is where logs, pid files and HAProxy's files are.
func (c *Cluster) RunDir() string { return c.runDir }

// HostIP returns a host's address.
func (c *Cluster) HostIP(host string) string {
	if hs, ok := c.hosts[host]; ok {
		return hs.IP
	}
	return ""
}

// Config returns the config a host runs with (nil for a host without one).
func (c *Cluster) Config(host string) *model.Config {
	if hs, ok := c.hosts[host]; ok {
		return hs.config
	}
	return nil
}

// ConfigDir returns the config directory a host runs with.
func (c *Cluster) ConfigDir(host string) string {
	if hs, ok := c.hosts[host]; ok {
		return hs.configDir
	}
	return ""
}

// Addr is a host's address with an example port mapped by the layout.
func (c *Cluster) Addr(host string, port int) string {
	return net.JoinHostPort(c.HostIP(host), strconv.Itoa(c.Layout.Port(port)))
}

// URL is http://Addr(host, port) + path.
func (c *Cluster) URL(host string, port int, path string) string {
	return "http://" + c.Addr(host, port) + path
}

// StatsURL is the URL of a host's HAProxy stats page ("" without one).
func (c *Cluster) StatsURL(host string) string {
	hs, ok := c.hosts[host]
	if !ok || hs.config == nil || hs.config.Balancer == nil || hs.config.Balancer.Stats == nil {
		return ""
	}
	s := hs.config.Balancer.Stats
	bind := s.BindAddress
	if bind == "" || bind == "*" || bind == "0.0.0.0" {
		bind = hs.IP
	}
	return "http://" + net.JoinHostPort(bind, strconv.Itoa(s.Port)) + s.URI
}

// PartnerRecord is the file where the partner records who called it.
func (c *Cluster) PartnerRecord() string { return filepath.Join(c.runDir, "partner", "requests.log") }

// Log is the log file of a host's program ("writer", "reporter", "redis",
// "webapp-8000"; ZooKeeper's is Log("", "zookeeper")).
func (c *Cluster) Log(host, name string) string {
	if host == "" {
		return filepath.Join(c.runDir, name, name+".log")
	}
	return filepath.Join(c.runDir, host, name+".log")
}

func (c *Cluster) pidFileCmd(host, name string) string {
	return "$(cat " + filepath.Join(c.runDir, host, name+".pid") + ")"
}
