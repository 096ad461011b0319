package runtime_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-zookeeper/zk"

	lzk "lighthouse/effects/zk"
	"lighthouse/internal/testenv"
	"lighthouse/model"
	"lighthouse/model/haproxyapi"
)

// scale is a writer's world at scale: clusters × nodes registered in a real
// ZooKeeper, each node a server of its cluster's backend in HAProxy.
type scale struct {
	e        *writerEnv
	clusters int
	// nodes maps a cluster to its nodes' znode names and addresses.
	nodes map[string]map[string]string
	reads atomic.Pointer[lzk.Watcher]
}

func clusterName(c int) string { return fmt.Sprintf("s%03d", c) }

// newScale writes the cluster files and registers every node; the writer
// is not started.
func newScale(b *testing.B, r testenv.HAProxyRelease, clusters, nodes int) *scale {
	e := newWriterEnv(b, r, 2*time.Second)
	s := &scale{e: e, clusters: clusters, nodes: map[string]map[string]string{}}
	e.onDiscovery = func(w *lzk.Watcher) { s.reads.Store(w) }
	var ops []any
	for _, p := range []string{"/lighthouse", "/lighthouse/services"} {
		e.conn.Create(p, nil, 0, zk.WorldACL(zk.PermAll))
	}
	for c := range clusters {
		name := clusterName(c)
		writeFile(b, filepath.Join(e.dir, "config/clusters", name+".yaml"), fmt.Sprintf("discovery: zookeeper\nhaproxy:\n  port: %d\n", testenv.FreePort(b)))
		ops = append(ops, &zk.CreateRequest{Path: "/lighthouse/services/" + name, Acl: zk.WorldACL(zk.PermAll)})
		s.nodes[name] = map[string]string{}
		for n := range nodes {
			host := fmt.Sprintf("n%03d.c%03d.test", n, c)
			ip := fmt.Sprintf("10.%d.%d.%d", 1+c/250, c%250, n+1)
			ops = append(ops, s.create(name, host, ip))
		}
	}
	s.multi(b, ops)
	return s
}

// create is the request that registers a node, recorded in s.nodes.
func (s *scale) create(cluster, host, ip string) *zk.CreateRequest {
	name := host + ":8000"
	s.nodes[cluster][name] = ip
	return &zk.CreateRequest{Path: "/lighthouse/services/" + cluster + "/" + name, Acl: zk.WorldACL(zk.PermAll),
		Data: model.Node{Host: host, IP: ip, Port: 8000}.Encode()}
}

// multi runs requests in transactions of 500.
func (s *scale) multi(b *testing.B, ops []any) {
	b.Helper()
	for len(ops) > 0 {
		n := min(500, len(ops))
		if _, err := s.e.conn.Multi(ops[:n]...); err != nil {
			b.Fatal(err)
		}
		ops = ops[n:]
	}
}

// matches says whether HAProxy's ready servers of one backend are exactly
// the registered nodes of its cluster, at their addresses.
func (s *scale) matches(cluster string, servers []haproxyapi.ServerRow) bool {
	ready := 0
	for _, sv := range servers {
		if sv.State != model.ServerReady {
			continue
		}
		if s.nodes[cluster][sv.Name] != sv.Addr {
			return false
		}
		ready++
	}
	return ready == len(s.nodes[cluster])
}

// waitConverged polls until HAProxy's ready servers are exactly the
// registered nodes, and returns how long it took. Only the backends that
// do not match yet are asked for, on one connection: asking for all
// 10,000 servers every few milliseconds would keep HAProxy busy (20 ms of
// its time each) and slow what is measured. A last look at everything
// confirms.
func (s *scale) waitConverged(b *testing.B, start time.Time) time.Duration {
	b.Helper()
	pending := slices.Sorted(maps.Keys(s.nodes))
	for {
		if time.Since(start) > 120*time.Second {
			b.Fatalf("HAProxy did not converge to ZooKeeper within 2 minutes: %d backends differ", len(pending))
		}
		if len(pending) == 0 {
			took := time.Since(start)
			o, err := s.e.local.Observe(context.Background())
			if err == nil && o.Servers != nil && !slices.ContainsFunc(slices.Sorted(maps.Keys(s.nodes)), func(c string) bool { return !s.matches(c, o.Servers[c]) }) {
				return took
			}
			pending = slices.Sorted(maps.Keys(s.nodes)) // moved on after matching: look again
		}
		if o, err := s.e.local.ObserveBackends(context.Background(), pending); err == nil {
			pending = slices.DeleteFunc(pending, func(c string) bool { return s.matches(c, o.Servers[c]) })
		}
		if len(pending) > 0 {
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// peakRSS is the process's peak resident set (VmHWM), in MB.
func peakRSS() float64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkColdStart: 200 clusters × 50 nodes (10,000 servers) registered;
// the time from the writer's start to HAProxy serving every one of them,
// with the starts, reloads and ZooKeeper reads it took and the peak RSS of
// the process (writer, ZooKeeper client and test). Target: under 5 s, one
// start, no reload.
func BenchmarkColdStart(b *testing.B) {
	r := testenv.HAProxyReleases(b)[0]
	for range b.N {
		b.StopTimer()
		s := newScale(b, r, 200, 50)
		counts := &actionCounts{done: map[string]int{}}
		s.e.metrics = counts
		b.StartTimer()
		start := time.Now()
		s.e.run()
		took := s.waitConverged(b, start)
		b.StopTimer()
		time.Sleep(200 * time.Millisecond) // the writer records its last step
		b.ReportMetric(took.Seconds(), "s-to-serve")
		b.ReportMetric(float64(counts.get("start")), "starts")
		b.ReportMetric(float64(counts.get("reload")), "reloads")
		b.ReportMetric(float64(s.reads.Load().Reads()), "zk-reads")
		b.ReportMetric(peakRSS(), "peak-rss-MB")
		s.e.stop()
		s.e.local.Process.Stop(context.Background())
	}
}

// BenchmarkBurstConverge: 200 clusters × 50 nodes (10,000 servers) run;
// 4,000 of them change in one burst (2,000 move to a new address, 2,000
// are replaced by new nodes); the time until HAProxy's ready servers equal
// ZooKeeper's, and the reloads it took. Target: under 1 s, no reload.
func BenchmarkBurstConverge(b *testing.B) {
	r := testenv.HAProxyReleases(b)[0]
	s := newScale(b, r, 200, 50)
	counts := &actionCounts{done: map[string]int{}}
	s.e.metrics = counts
	s.e.run()
	b.Cleanup(s.e.stop)
	s.waitConverged(b, time.Now())
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		reloads := counts.get("reload")
		var ops []any
		changed := 0
		for c := 0; c < s.clusters && changed < 4000; c++ {
			name := clusterName(c)
			for _, node := range slices.Sorted(maps.Keys(s.nodes[name]))[:20] {
				ip := s.nodes[name][node]
				changed++
				path := "/lighthouse/services/" + name + "/" + node
				host := strings.TrimSuffix(node, ":8000")
				if changed%2 == 0 { // moved: a new address
					ip2 := strings.Replace(ip, "10.", "11.", 1)
					if strings.HasPrefix(ip, "11.") {
						ip2 = strings.Replace(ip, "11.", "10.", 1)
					}
					s.nodes[name][node] = ip2
					ops = append(ops, &zk.SetDataRequest{Path: path, Version: -1, Data: model.Node{Host: host, IP: ip2, Port: 8000}.Encode()})
				} else { // replaced: a new node instead
					delete(s.nodes[name], node)
					ops = append(ops, &zk.DeleteRequest{Path: path, Version: -1})
					ops = append(ops, s.create(name, fmt.Sprintf("r%d-%s", i, host), ip))
				}
			}
		}
		b.StartTimer()
		start := time.Now()
		s.multi(b, ops)
		b.Logf("the burst written to ZooKeeper in %v", time.Since(start).Round(time.Millisecond))
		took := s.waitConverged(b, start)
		b.StopTimer()
		b.ReportMetric(took.Seconds(), "s-to-converge")
		b.ReportMetric(float64(counts.get("reload")-reloads), "reloads")
	}
}
