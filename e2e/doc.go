// Package e2e holds the end-to-end tests: the original Lighthouse's two
// documented examples ("web app + cache", "API meta cluster with proxies")
// started by the same orchestrator as `make demo` (examples/demo/cluster),
// with real ZooKeeper, HAProxy and Redis, the lighthouse binary and the
// example apps, on free ports and in a temporary directory so that they never
// collide with a demo a developer runs. The tests send traffic through the
// client's HAProxy as a user of the example would.
//
// The walkthroughs run once per supported HAProxy release, in subtests named
// haproxy-X.Y (internal/testenv.ForEachHAProxy; LIGHTHOUSE_HAPROXY=3.4
// selects): the example's writers run that release's binary. A test whose
// subject does not depend on HAProxy (the metrics, `lighthouse check`) runs
// on the first selected release only.
//
// They are skipped under -short (make unit); a missing server program or
// release skips them, or fails them when CI is set (internal/testenv.Require,
// internal/testenv.HAProxyReleases).
package e2e
