package cluster

import (
	"fmt"
	"sort"
)

// Example is one of the original Lighthouse's documented examples, laid
// out on one machine: every host is a loopback address with its own config
// directory (examples/<Name>/<host>), and the programs that run there.
type Example struct {
	// Name is the directory under examples/: "web-cache" or "api".
	Name string
	// Title is the example's name in the original's documentation.
	Title string
	// Hosts in start order (services before their consumers).
	Hosts []Host
	// FrontDoors are what a user tries first; Start waits until every one
	// answers from every node of its cluster.
	FrontDoors []FrontDoor
	// Try lists commands to try, given the running cluster.
	Try func(c *Cluster) []string
}

// Host is one "machine" of an example. Whether it runs a writer (and so an
// HAProxy) or a reporter follows from its config directory: a
// balancers/haproxy.yaml, services/*.yaml.
type Host struct {
	Name string
	IP   string
	// Redis is the port of a redis-server on this host (0: none).
	Redis int
	// Apps are the example's own programs (examples/apps/...).
	Apps []App
	// NoConfig marks a host without Lighthouse (the partner).
	NoConfig bool
	// Role is a few words for the summary ("multiapp: two web app instances").
	Role string
}

// App is one instance of an example program.
type App struct {
	// Program is the command under examples/apps: webapp, widgets,
	// sprockets, partner.
	Program string
	// Port is the port it listens on, as the example's files say.
	Port int
	// Clusters maps a flag of the program to the cluster whose local
	// HAProxy address (this host's bind address and the cluster's port) it
	// receives: {"cache": "cache"} gives -cache 127.0.0.21:9999.
	Clusters map[string]string
}

// FrontDoor is an address a user of the example talks to.
type FrontDoor struct {
	Host    string // whose HAProxy serves it
	Port    int    // the example's port number
	Path    string // requested with GET to tell that it is ready
	Cluster string // the cluster whose every node must have answered
}

// ExampleRunDir is where the example files put HAProxy's files
// (/tmp/lighthouse-demo/<host>/haproxy.cfg, ...), and so the run directory
// of `make demo`.
const ExampleRunDir = "/tmp/lighthouse-demo"

// ZooKeeperPort is the ZooKeeper port the example files name (on 127.0.0.1).
const ZooKeeperPort = 2181

// Examples are the two examples, by name.
var Examples = map[string]*Example{
	"web-cache": webCache,
	"api":       api,
}

// ExampleNames returns the example names, sorted.
func ExampleNames() []string {
	var out []string
	for n := range Examples {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

var cacheHosts = []Host{
	{Name: "cache01", IP: "127.0.0.11", Redis: 6379, Role: "cache node"},
	{Name: "cache02", IP: "127.0.0.12", Redis: 6379, Role: "cache node"},
}

var cacheUser = map[string]string{"cache": "cache"}

var webCache = &Example{
	Name:  "web-cache",
	Title: "web app + cache (the original's \"web cluster with redis\")",
	Hosts: append(append([]Host{}, cacheHosts...),
		Host{Name: "app01", IP: "127.0.0.21", Role: "web app node",
			Apps: []App{{Program: "webapp", Port: 8000, Clusters: cacheUser}}},
		Host{Name: "app02", IP: "127.0.0.22", Role: "multiapp: two web app instances on one host",
			Apps: []App{{Program: "webapp", Port: 8001, Clusters: cacheUser}, {Program: "webapp", Port: 8002, Clusters: cacheUser}}},
		Host{Name: "client", IP: "127.0.0.1", Role: "client: consumes the webapp cluster"},
	),
	FrontDoors: []FrontDoor{{Host: "client", Port: 8000, Path: "/health", Cluster: "webapp"}},
	Try: func(c *Cluster) []string {
		return []string{
			fmt.Sprintf("curl -i %s   # the counter; X-Served-By names the node", c.URL("client", 8000, "/")),
			fmt.Sprintf("%s   # the client's HAProxy stats page: 3 webapp servers on 2 hosts", c.StatsURL("client")),
			fmt.Sprintf("kill %s   # stop a web app node; it leaves once its health check has failed 3 times", c.pidFileCmd("app01", "webapp-8000")),
			fmt.Sprintf("kill -STOP %s   # or freeze it (kill -CONT brings it back)", c.pidFileCmd("app02", "webapp-8001")),
			fmt.Sprintf("kill %s   # stop a cache node; the web apps carry on with the other", c.pidFileCmd("cache02", "redis")),
		}
	},
}

var api = &Example{
	Name:  "api",
	Title: "API meta cluster with proxies",
	Hosts: append(append([]Host{
		{Name: "partner", IP: "127.0.0.40", NoConfig: true, Role: "the 3rd-party partner: no Lighthouse, talks only to proxies",
			Apps: []App{{Program: "partner", Port: 8088}}},
		{Name: "proxy01", IP: "127.0.0.31", Role: "proxy node: the only one the partner sees"},
	}, cacheHosts...),
		Host{Name: "widgets01", IP: "127.0.0.51", Role: "widgets API node",
			Apps: []App{{Program: "widgets", Port: 8000, Clusters: cacheUser}}},
		Host{Name: "widgets02", IP: "127.0.0.52", Role: "widgets API node",
			Apps: []App{{Program: "widgets", Port: 8000, Clusters: cacheUser}}},
		Host{Name: "sprockets01", IP: "127.0.0.61", Role: "sprockets API node",
			Apps: []App{{Program: "sprockets", Port: 8000, Clusters: map[string]string{"cache": "cache", "partner": "proxy"}}}},
		Host{Name: "sprockets02", IP: "127.0.0.62", Role: "sprockets API node",
			Apps: []App{{Program: "sprockets", Port: 8000, Clusters: map[string]string{"cache": "cache", "partner": "proxy"}}}},
		Host{Name: "client", IP: "127.0.0.1", Role: "client: consumes the stuff_api meta cluster"},
	),
	FrontDoors: []FrontDoor{
		{Host: "client", Port: 8080, Path: "/api/widgets", Cluster: "api_widgets"},
		{Host: "client", Port: 8080, Path: "/api/sprockets", Cluster: "api_sprockets"},
	},
	Try: func(c *Cluster) []string {
		return []string{
			fmt.Sprintf("curl %s", c.URL("client", 8080, "/api/widgets")),
			fmt.Sprintf("curl -XPOST -d widget=foo %s", c.URL("client", 8080, "/api/widgets")),
			fmt.Sprintf("curl %s", c.URL("client", 8080, "/api/sprockets")),
			fmt.Sprintf("curl -XPOST -d sprocket=bar %s", c.URL("client", 8080, "/api/sprockets")),
			fmt.Sprintf("%s   # the client's HAProxy stats page: api_widgets, api_sprockets", c.StatsURL("client")),
			fmt.Sprintf("cat %s   # who talked to the partner: only %s", c.PartnerRecord(), c.HostIP("proxy01")),
			fmt.Sprintf("kill %s   # stop the only proxy: sprockets turn unhealthy, widgets carry on", c.pidFileCmd("proxy01", "reporter")),
		}
	},
}
