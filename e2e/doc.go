// Package e2e holds the end-to-end tests: the original Lighthouse's two
// documented examples ("web app + cache", "API meta cluster with proxies")
// started by the same orchestrator as `make demo` (examples/demo/cluster),
// with real ZooKeeper, HAProxy and Redis, the lighthouse binary and the
// example apps, on free ports and in a temporary directory so that they never
// collide with a demo a developer runs. The tests send traffic through the
// client's HAProxy as a user of the example would.
//
// They are skipped under -short (make unit); a missing server program skips
// them, or fails them when CI is set (effects/testenv.Require).
package e2e
