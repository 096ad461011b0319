package cluster

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"lighthouse/effects"
	"lighthouse/model"
)

// Layout says where an example runs. Its zero value (with RunDir
// ExampleRunDir) is the examples' own layout: the config directories under
// examples/ are used as they are, so a developer can edit them and run
// `lighthouse plan --config-dir examples/...` against the demo. Any other
// layout runs rewritten copies of them (RunDir/config/<host>).
type Layout struct {
	// RunDir receives logs, pid files, HAProxy's files and ZooKeeper's data;
	// "" means ExampleRunDir.
	RunDir string
	// Ports maps a port number of the example (2181, 6379, 8000, 9999, ...)
	// to the port used instead, everywhere: ZooKeeper, Redis, the apps and
	// every listener in the config files. Ports not in the map stay.
	Ports map[int]int
	// CheckInterval replaces every service's checks.interval when set
	// (tests use short ones).
	CheckInterval time.Duration
}

func (l Layout) runDir() string {
	if l.RunDir == "" {
		return ExampleRunDir
	}
	return l.RunDir
}

// Port maps an example port number.
func (l Layout) Port(p int) int {
	if q, ok := l.Ports[p]; ok {
		return q
	}
	return p
}

// inPlace reports whether the examples' config directories serve as they are.
func (l Layout) inPlace() bool {
	return filepath.Clean(l.runDir()) == ExampleRunDir && len(l.Ports) == 0 && l.CheckInterval == 0
}

// ExamplePorts lists every port number an example uses: ZooKeeper's, the
// programs', and every port of its config files (listeners, upstreams,
// services). Map them all (FreePorts) to run the example beside another
// copy of it.
func ExamplePorts(root string, ex *Example) ([]int, error) {
	seen := map[int]bool{ZooKeeperPort: true, WriterMetricsPort: true, ReporterMetricsPort: true, PrometheusPort: true}
	for _, h := range ex.Hosts {
		if h.Redis != 0 {
			seen[h.Redis] = true
		}
		for _, a := range h.Apps {
			seen[a.Port] = true
		}
		if h.NoConfig {
			continue
		}
		files, err := effects.ReadConfigDir(filepath.Join(root, "examples", ex.Name, h.Name))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			var doc yaml.Node
			if err := yaml.Unmarshal(f.Data, &doc); err != nil {
				return nil, fmt.Errorf("%s/%s: %w", h.Name, f.Path, err)
			}
			walk(&doc, "", "", func(n *yaml.Node, key, parent string) {
				if p, ok := portValue(n, key); ok {
					seen[p] = true
				}
			})
		}
	}
	var out []int
	for p := range seen {
		out = append(out, p)
	}
	sort.Ints(out)
	return out, nil
}

// The range FreePorts picks from.
const pickLow, pickHigh = 20000, 32000

// FreePorts maps each port to a distinct port, picked at random between
// pickLow and pickHigh, that was free on every address a moment ago (bind,
// read, close). Another process may take one before it is bound; Start
// then fails with the address it could not bind.
func FreePorts(ports []int) (map[int]int, error) {
	out := map[int]int{}
	used := map[int]bool{}
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	for _, p := range ports {
		// Keep each listener open until all are picked, so that no port is
		// handed out twice. The ports come from below the kernel's
		// ephemeral range (32768 and up): an ephemeral port that is free
		// now may be taken a moment later as the source port of an
		// outgoing connection (tests running beside open many), and a
		// program of the example would then fail to bind it.
		var l net.Listener
		for try := 0; l == nil; try++ {
			if try == 200 {
				return nil, fmt.Errorf("free port: none found between %d and %d", pickLow, pickHigh)
			}
			q := pickLow + rand.N(pickHigh-pickLow)
			if used[q] {
				continue
			}
			// On every address: the example's hosts are 127.0.0.x.
			if c, err := net.Listen("tcp", ":"+strconv.Itoa(q)); err == nil {
				l = c
			}
		}
		held = append(held, l)
		q := l.Addr().(*net.TCPAddr).Port
		used[q] = true
		out[p] = q
	}
	return out, nil
}

// walk calls f on every node of a YAML tree with the mapping key it is the
// value of (inherited by sequence items) and that key's parent key.
func walk(n *yaml.Node, key, parent string, f func(n *yaml.Node, key, parent string)) {
	f(n, key, parent)
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			walk(c, key, parent, f)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(n.Content[i+1], n.Content[i].Value, key, f)
		}
	}
}

// portValue reports whether n is a port number: an integer scalar of a
// `port` key or of a `ports` list.
func portValue(n *yaml.Node, key string) (int, bool) {
	if n.Kind != yaml.ScalarNode || key != "port" && key != "ports" {
		return 0, false
	}
	p, err := strconv.Atoi(n.Value)
	if err != nil || p < 1 || p > 65535 {
		return 0, false
	}
	return p, true
}

// rewrite adapts one config file of an example to the layout: ports
// mapped, ZooKeeper's address, HAProxy's files under the run directory,
// check intervals.
func (l Layout) rewrite(data []byte) ([]byte, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	zk := fmt.Sprintf("127.0.0.1:%d", l.Port(ZooKeeperPort))
	walk(&doc, "", "", func(n *yaml.Node, key, parent string) {
		if p, ok := portValue(n, key); ok {
			n.Value = strconv.Itoa(l.Port(p))
			return
		}
		switch {
		case key == "hosts" && parent == "" && n.Kind == yaml.SequenceNode:
			// discovery/zookeeper.yaml
			n.Content = []*yaml.Node{{Kind: yaml.ScalarNode, Tag: "!!str", Value: zk, Style: yaml.DoubleQuotedStyle}}
		case key == "interval" && parent == "checks" && n.Kind == yaml.ScalarNode && l.CheckInterval > 0:
			n.Value, n.Tag, n.Style = l.CheckInterval.String(), "!!str", yaml.DoubleQuotedStyle
		case n.Kind == yaml.ScalarNode && strings.HasPrefix(n.Value, ExampleRunDir+"/"):
			n.Value = filepath.Join(l.runDir(), strings.TrimPrefix(n.Value, ExampleRunDir+"/"))
		}
	})
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// configDir returns the config directory a host runs with: the example's
// own, or a rewritten copy under RunDir/config/<host>. Either way the
// directory must load without errors.
func (l Layout) configDir(root string, ex *Example, h Host) (string, *model.Config, error) {
	src := filepath.Join(root, "examples", ex.Name, h.Name)
	files, err := effects.ReadConfigDir(src)
	if err != nil {
		return "", nil, err
	}
	dir := src
	if !l.inPlace() {
		dir = filepath.Join(l.runDir(), "config", h.Name)
		if err := os.RemoveAll(dir); err != nil {
			return "", nil, err
		}
		for i, f := range files {
			data, err := l.rewrite(f.Data)
			if err != nil {
				return "", nil, fmt.Errorf("%s: %w", filepath.Join(src, f.Path), err)
			}
			files[i].Data = data
			p := filepath.Join(dir, filepath.FromSlash(f.Path))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", nil, err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return "", nil, err
			}
		}
	}
	snap := model.Load(nil, files)
	if errs := snap.Diagnostics.Errors(); len(errs) > 0 {
		return "", nil, fmt.Errorf("config dir %s does not validate:\n%s", dir, errs.String())
	}
	return dir, &snap.Config, nil
}
