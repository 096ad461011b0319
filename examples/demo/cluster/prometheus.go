package cluster

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The ports of the daemons' metrics listeners (--metrics-address, on each
// host's own address) and of the demo's Prometheus (on 127.0.0.1).
const (
	WriterMetricsPort   = 9101
	ReporterMetricsPort = 9102
	PrometheusPort      = 9090
)

// MetricsURL is the /metrics URL of a host's writer or reporter ("" when
// the host runs none).
func (c *Cluster) MetricsURL(host, program string) string {
	hs, ok := c.hosts[host]
	if !ok || hs.config == nil {
		return ""
	}
	switch {
	case program == "writer" && hs.config.Balancer != nil:
		return c.URL(host, WriterMetricsPort, "/metrics")
	case program == "reporter" && len(hs.config.Services) > 0:
		return c.URL(host, ReporterMetricsPort, "/metrics")
	}
	return ""
}

// PrometheusURL is the URL of the demo's Prometheus ("" when it does not
// run).
func (c *Cluster) PrometheusURL() string { return c.prometheusURL }

// startPrometheus starts a Prometheus on loopback that scrapes every
// daemon of the example every second, and waits until it is ready.
func (c *Cluster) startPrometheus(ctx context.Context) error {
	bin := LookPath("prometheus")
	if bin == "" {
		return fmt.Errorf("prometheus not found (Debian package prometheus)")
	}
	dir := filepath.Join(c.runDir, "prometheus")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		return err
	}
	var cfg strings.Builder
	cfg.WriteString("global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n")
	for _, program := range []string{"writer", "reporter"} {
		fmt.Fprintf(&cfg, "  - job_name: lighthouse-%s\n    static_configs:\n", program)
		for _, h := range c.Example.Hosts {
			if u := c.MetricsURL(h.Name, program); u != "" {
				addr := strings.TrimSuffix(strings.TrimPrefix(u, "http://"), "/metrics")
				fmt.Fprintf(&cfg, "      - targets: [%q]\n        labels: {host: %q}\n", addr, h.Name)
			}
		}
	}
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(cfg.String()), 0o644); err != nil {
		return err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Layout.Port(PrometheusPort)))
	p, err := c.startProc("", "prometheus", bin, "--config.file="+file, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	if err != nil {
		return err
	}
	c.track(&c.services, p)
	url := "http://" + addr
	if err := c.waitFor(ctx, "Prometheus to be ready", p, func() error {
		resp, err := http.Get(url + "/-/ready")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("/-/ready: %s", resp.Status)
		}
		return nil
	}); err != nil {
		return err
	}
	c.prometheusURL = url
	c.say("", "Prometheus on %s scrapes every writer and reporter each second (config: %s)", url, file)
	return nil
}

// metricsSummary lists the daemons' metrics URLs and Prometheus's.
func (c *Cluster) metricsSummary() []string {
	var out []string
	for _, h := range c.Example.Hosts {
		for _, program := range []string{"writer", "reporter"} {
			if u := c.MetricsURL(h.Name, program); u != "" {
				out = append(out, fmt.Sprintf("%-9s %-8s %s  (also /healthz, /readyz)", h.Name, program, u))
			}
		}
	}
	if c.prometheusURL != "" {
		out = append(out, fmt.Sprintf("Prometheus         %s/graph?g0.expr=lighthouse_writer_cluster_nodes", c.prometheusURL))
	} else if LookPath("prometheus") == "" {
		out = append(out, "(install the Debian package prometheus to have the demo start one that scrapes these)")
	}
	return slices.Clip(out)
}

// waitMetrics waits until a daemon's metrics listener answers.
func (c *Cluster) waitMetrics(ctx context.Context, host, program string, p *Proc) error {
	u := c.MetricsURL(host, program)
	if u == "" {
		return nil
	}
	client := http.Client{Timeout: time.Second}
	return c.waitFor(ctx, host+"'s "+program+" metrics", p, func() error {
		resp, err := client.Get(u)
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	})
}
