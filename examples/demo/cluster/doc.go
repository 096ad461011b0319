// Package cluster runs the original Lighthouse's two documented examples on
// one machine, for `make demo` (examples/demo) and the end-to-end tests
// (e2e): every "host" of the original's Docker walkthrough is a loopback
// address (127.0.0.x) with its own config directory, examples/<example>/<host>,
// and its own programs: Redis, the example apps (examples/apps), a reporter
// for its services and a writer (with its HAProxy daemon) for the clusters
// it consumes. ZooKeeper runs on 127.0.0.1.
//
// Start brings an example up tier by tier (providers before their
// consumers), reports each step, waits until every node is registered and
// answers through the client's HAProxy, and afterwards reports membership
// changes and programs that exit. Stop brings everything down, HAProxy
// daemons included. Every program runs as the leader of its own process
// group with Pdeathsig, so that it dies with the orchestrator; only the
// daemonized HAProxy instances can outlive a killed orchestrator, and the
// next Start in the same run directory stops them.
//
// A Layout places an example: its zero value is the examples' own (fixed
// ports, /tmp/lighthouse-demo, the config directories used in place); tests
// map every port to a free one, run in a temporary directory and shorten the
// check intervals, which runs rewritten copies of the config directories.
package cluster
