// Package model is the typed, validated snapshot of a Lighthouse config
// directory and of cluster membership. It is part of the pure core: it decodes
// bytes handed to it by the caller and never touches the filesystem, the
// network or the clock.
package model

import (
	"sort"
	"strings"
	"time"
)

// Pos locates a value in the config directory, for diagnostics raised after
// loading (for example by the renderer when it checks a directive).
type Pos struct {
	File string // relative to the config directory, e.g. "clusters/web.yaml"
	Line int    // 1-based YAML line, 0 when unknown
	Key  string // dotted key path, e.g. "haproxy.backend[1]"
}

// Diag makes a diagnostic located at p.
func (p Pos) Diag(sev Severity, msg string) Diagnostic {
	return Diagnostic{Severity: sev, File: p.File, Line: p.Line, Key: clip(p.Key), Message: msg}
}

// Line is one HAProxy directive line taken from YAML, with where it came from.
// Text holds no control characters (the loader rejects them) and is trimmed.
type Line struct {
	Text string
	Pos  Pos
}

// Config is everything a config directory says, after validation. Items that
// failed validation are absent, or present in their last good version.
type Config struct {
	// Logging is the logging setup; its zero value means the defaults.
	Logging Logging
	// Balancer is balancers/haproxy.yaml; nil when the file is absent or has
	// never been valid.
	Balancer *Balancer
	// Discovery holds discovery/<name>.yaml keyed by name ("zookeeper").
	Discovery map[string]Discovery
	// Clusters holds clusters/*.yaml keyed by cluster name.
	Clusters map[string]Cluster
	// Services holds services/*.yaml keyed by file stem (several files may
	// report into the same cluster name through `name:`).
	Services map[string]Service
	// Drains are the entries of drain.yaml (DrainFile): what `lighthouse
	// drain` asked the reporter to publish with state: drain.
	Drains []Drain
}

// ClusterNames returns the cluster names in sorted order.
func (c *Config) ClusterNames() []string { return sortedKeys(c.Clusters) }

// ServiceIDs returns the service file stems in sorted order.
func (c *Config) ServiceIDs() []string { return sortedKeys(c.Services) }

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Logging is logging.yaml mapped onto log/slog. The original handed this file
// to Python's dictConfig; the meaningful parts (root level, a stream handler's
// stream) are read from that shape too.
type Logging struct {
	Level  string // "debug", "info", "warn" or "error"; default "info"
	Format string // "text" or "json"; default "text"
	Stream string // "stdout" or "stderr"; default "stderr"
}

// DefaultDrainTimeout is how long a departed server may finish the requests
// it has in flight before they are cut.
const DefaultDrainTimeout = 5 * time.Minute

// The default and the most of balancers/haproxy.yaml's observe_interval.
const (
	DefaultObserveInterval = 30 * time.Second
	MaxObserveInterval     = time.Hour
)

// DefaultRestartInterval is the least time between two HAProxy reloads, as
// in the original.
const DefaultRestartInterval = 2 * time.Second

// Balancer is balancers/haproxy.yaml.
type Balancer struct {
	Pos          Pos
	ConfigFile   string // path of the HAProxy config the writer owns
	SocketFile   string // admin stats socket
	PidFile      string // HAProxy pid file
	Global       []Line
	Defaults     []Line
	BindAddress  string // "" means all interfaces, as in the original
	MetaClusters map[string]MetaCluster
	Proxies      map[string]Proxy
	Stats        *Stats // nil when no stats listener is configured
	// RestartInterval is the least time between two reloads
	// (restart_interval; default DefaultRestartInterval).
	RestartInterval time.Duration
	// DrainTimeout bounds how long a server that left its cluster may keep
	// requests in flight (drain_timeout; default DefaultDrainTimeout): after
	// it, its sessions are shut down and it is deleted.
	DrainTimeout time.Duration
	// ObserveInterval is how often the writer reads the state of every
	// server from HAProxy (observe_interval; default
	// DefaultObserveInterval, at most MaxObserveInterval); in between it
	// reads only the backends whose membership changed, and trusts what
	// its own plans did to the rest.
	ObserveInterval time.Duration
	// Lines maps each key path the file set ("stats.port",
	// "proxies.partner.port") to its YAML line, for diagnostics.
	Lines map[string]int
}

// At locates a key of balancers/haproxy.yaml.
func (b *Balancer) At(key string) Pos { return at(b.Pos.File, b.Lines, key) }

// MetaClusterNames returns the meta cluster names in sorted order.
func (b *Balancer) MetaClusterNames() []string { return sortedKeys(b.MetaClusters) }

// ProxyNames returns the proxy names in sorted order.
func (b *Balancer) ProxyNames() []string { return sortedKeys(b.Proxies) }

// MetaCluster is one entry of meta_clusters: a port shared by several
// clusters, routed by each member's ACL.
type MetaCluster struct {
	Pos      Pos
	Port     int
	Frontend []Line
}

// Proxy is one entry of proxies: a plain `listen` section to fixed upstreams.
type Proxy struct {
	Pos         Pos
	Port        int
	BindAddress string
	Upstreams   []Upstream
	Options     []Line
}

// Upstream is one server of a proxy.
type Upstream struct {
	Host    string
	Port    int
	MaxConn int // 0 means no maxconn
}

// Stats is the HAProxy stats web listener.
type Stats struct {
	Pos         Pos
	Port        int
	BindAddress string // "" means all interfaces, as in the original
	URI         string // default "/"
	// Timeouts hold HAProxy time values ("4000", "4s"); "" means unset.
	TimeoutConnect, TimeoutClient, TimeoutServer string
}

// Discovery is discovery/zookeeper.yaml.
type Discovery struct {
	Pos   Pos
	Name  string   // the file stem; "zookeeper" is the only method
	Hosts []string // "host:port"
	Path  string   // base znode path, no trailing slash
	// SessionTimeout is the ZooKeeper session timeout the writer and the
	// reporter ask for, MinSessionTimeout..MaxSessionTimeout (default
	// DefaultSessionTimeout). The servers clamp it to their own range
	// (2 to 20 ticks).
	SessionTimeout time.Duration
	// ResyncJitter spreads the writer's re-reads after a reconnect: each
	// cluster is read again after a random delay in [0, ResyncJitter]
	// (resync_jitter, up to MaxResyncJitter; DefaultResyncJitter when the
	// file does not say; a Discovery made in code without it reads at
	// once).
	ResyncJitter time.Duration
	// Auth is how sessions authenticate; nil means they do not.
	Auth *DiscoveryAuth
	// ACL is the ACL of the znodes the reporter creates, as written; nil
	// means the default (see RegistrationACL).
	ACL []ACLEntry
	// TLS protects the connections; nil means plain TCP.
	TLS *DiscoveryTLS
	// Lines maps each key path the file set ("auth.credentials_file") to
	// its YAML line, for the shell's errors about the files it names.
	Lines map[string]int
}

// The range and default of discovery/zookeeper.yaml's resync_jitter.
const (
	DefaultResyncJitter = 2 * time.Second
	MaxResyncJitter     = 60 * time.Second
)

// The range and default of discovery/zookeeper.yaml's session_timeout.
const (
	DefaultSessionTimeout = 10 * time.Second // kazoo's default, the original's
	MinSessionTimeout     = time.Second
	MaxSessionTimeout     = 60 * time.Second
)

// Cluster is clusters/<name>.yaml: a service this node consumes.
type Cluster struct {
	Pos         Pos
	Name        string // `name:` or the file stem
	Discovery   string
	MetaCluster string // "" when not part of a meta cluster
	HAProxy     ClusterHAProxy
	// Lines maps each key path that the file set ("discovery",
	// "haproxy.port") to its YAML line, for diagnostics.
	Lines map[string]int
}

// At locates a key of the cluster's file.
func (c Cluster) At(key string) Pos { return at(c.Pos.File, c.Lines, key) }

// at locates key in file: the line of the key, or of its nearest parent
// that the file sets.
func at(file string, lines map[string]int, key string) Pos {
	for k := key; k != ""; {
		if l, ok := lines[k]; ok {
			return Pos{File: file, Line: l, Key: key}
		}
		i := strings.LastIndexAny(k, ".[")
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return Pos{File: file, Key: key}
}

// ClusterHAProxy is the haproxy: map of a cluster.
type ClusterHAProxy struct {
	Port          int    // 0 means no frontend of its own
	ACL           string // routing condition inside the meta cluster
	Frontend      []Line
	Backend       []Line
	ServerOptions string // appended to every server line
}

// Service is services/<name>.yaml: a service this node provides.
type Service struct {
	Pos       Pos
	Name      string // cluster name it reports into: `name:` or the file stem
	Discovery string
	Host      string // where checks connect; default "127.0.0.1"
	Ports     []int  // sorted, distinct
	Metadata  map[string]any
	// Weight is the HAProxy weight published with every port
	// (MinWeight..MaxWeight), 0 when unset. It is also in Metadata, under
	// MetaWeight.
	Weight int
	// DrainOnStop is how long the reporter publishes state: drain before
	// it deregisters on SIGTERM; 0 deregisters at once.
	DrainOnStop time.Duration
	Interval    time.Duration
	Checks      []Check // sorted by Type
	// Lines maps each key path that the file set to its YAML line.
	Lines map[string]int
}

// At locates a key of the service's file.
func (s Service) At(key string) Pos { return at(s.Pos.File, s.Lines, key) }

// Check is one health check of a service.
type Check struct {
	Type    string // "http", "tcp", "redis"
	Rise    int    // consecutive passes to turn up
	Fall    int    // consecutive failures to turn down
	Timeout time.Duration
	// http
	URI    string
	Method string
	HTTPS  bool
	// tcp
	Query    string
	Response string
}
