// Package golden holds the golden test cases of Lighthouse: one directory
// per case, with its inputs and the expected outputs under want/. The tests
// live in this package's _test.go files; `go test ./golden -update`
// (`make golden`) rewrites every want/ file from the current code, to be
// reviewed as a diff. The -update flag is defined here and nowhere else.
//
// golden/render/<case>/ is a case of render.Render:
//
//	config/            a config directory (balancers/, discovery/, clusters/, ...)
//	membership.json    optional: cluster name → nodes, as `lighthouse render --membership` reads it
//	version            the HAProxy version rendered for, e.g. "2.6.12"
//	want/haproxy.cfg   the rendered config (empty when nothing can be rendered)
//	want/diagnostics.txt  every diagnostic (config load, membership, render), sorted;
//	                   absent when there are none
//
// Every want/haproxy.cfg must pass `haproxy -c` of the installed HAProxy.
//
// golden/registration/<case>/ is a case of the reporter's registry plan
// (registration.Wanted, then registration.Make), described in
// registration_test.go:
//
//	before/config/     the config the reporter had registered for
//	before/checks      optional: "SERVICE PORT up|down" lines, the ports judged then
//	after/config/      optional: the config now (default: before's)
//	after/checks       optional: the ports judged now (default: before's)
//	state              optional: what happened since (a new session, a znode
//	                   deleted, overwritten or taken by someone else, ...)
//	want/plan.txt      the plan as Plan.String() describes it, then diagnostics
package golden
