package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"lighthouse/examples/demo/cluster"
	"lighthouse/internal/testenv"
)

// promQuery runs an instant query against Prometheus's HTTP API and returns
// the value of each series, by the value of label.
func promQuery(t *testing.T, base, expr, label string) (map[string]float64, error) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var answer struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return nil, fmt.Errorf("%s: %w: %s", expr, err, body)
	}
	if answer.Status != "success" {
		t.Fatalf("query %s: %s", expr, answer.Error)
	}
	out := map[string]float64{}
	for _, r := range answer.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: value %v", expr, r.Value)
		}
		out[r.Metric[label]] = v
	}
	return out, nil
}

// waitQuery waits until the query's series, by label, satisfy cond.
func waitQuery(t *testing.T, base, what, expr, label string, cond func(map[string]float64) bool) {
	t.Helper()
	var last map[string]float64
	var lastErr error
	testenv.WaitFor(t, 30*time.Second, what, func() bool {
		last, lastErr = promQuery(t, base, expr, label)
		return lastErr == nil && cond(last)
	})
	t.Logf("%s: %s = %v", what, expr, last)
}

// A real Prometheus scrapes the example's daemons: it sees the client's
// writer count three webapp nodes, then two once a web app stops; and the
// reporters' checks follow the web app.
func TestMetricsInPrometheus(t *testing.T) {
	testenv.Require(t, "prometheus")
	r := testenv.HAProxyReleases(t)[0] // one release: the metrics do not depend on it
	c := start(t, "web-cache", r, func(o *cluster.Options) { o.Prometheus = true })
	prom := c.PrometheusURL()
	if prom == "" {
		t.Fatal("the example did not start Prometheus")
	}

	waitQuery(t, prom, "three webapp nodes on the client", `lighthouse_writer_cluster_nodes{cluster="webapp",host="client"}`, "host",
		func(m map[string]float64) bool { return m["client"] == 3 })
	waitQuery(t, prom, "webapp's membership known on the client", `lighthouse_writer_cluster_known{cluster="webapp"}`, "host",
		func(m map[string]float64) bool { return m["client"] == 1 })
	checkUp := `lighthouse_reporter_check_up{service="webapp"}`
	waitQuery(t, prom, "app01's webapp check up", checkUp, "host",
		func(m map[string]float64) bool { return m["app01"] == 1 && m["app02"] == 1 })
	waitQuery(t, prom, "every daemon connected to ZooKeeper", `min by (host) (lighthouse_zookeeper_connected)`, "host",
		func(m map[string]float64) bool { return len(m) == 5 && m["client"] == 1 && m["app01"] == 1 })

	// The daemons answer their health endpoints.
	for _, u := range []string{c.URL("client", cluster.WriterMetricsPort, "/readyz"), c.URL("app01", cluster.ReporterMetricsPort, "/readyz"),
		c.URL("client", cluster.WriterMetricsPort, "/healthz")} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s %s", u, resp.Status, body)
		}
	}

	if err := c.StopApp("app01", 8000); err != nil {
		t.Fatal(err)
	}
	waitQuery(t, prom, "app01's webapp check down", checkUp, "host",
		func(m map[string]float64) bool { return m["app01"] == 0 && m["app02"] == 1 })
	waitQuery(t, prom, "two webapp nodes on the client", `lighthouse_writer_cluster_nodes{cluster="webapp",host="client"}`, "host",
		func(m map[string]float64) bool { return m["client"] == 2 })
	waitQuery(t, prom, "app01's deregistration counted", `lighthouse_reporter_registration_changes_total{change="deregistered",service="webapp"}`, "host",
		func(m map[string]float64) bool { return m["app01"] >= 1 })
}
