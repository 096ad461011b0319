// Package runtime runs the two long-lived programs, the writer and the
// reporter: the loops that feed inputs to the pure core (model, render,
// plan), carry out what it decides through the effects, and feed the
// outcomes back as new inputs.
//
// The interfaces the loops need are declared here, small, where they are
// used (HAProxy, Discovery, ConfigSource for the writer; Prober, Registry
// and ConfigSource for the reporter); package effects satisfies them and
// cmd/lighthouse wires them together. Tests run the loops against the real
// effects and real servers.
//
// This package shadows the standard library's runtime package: a file that
// needs both imports the standard one as goruntime.
//
// # Writer
//
// Writer keeps the local HAProxy in sync with the config directory and
// cluster membership: inputs → Planner.Plan → log the plan → carry it out →
// outcomes back as inputs.
//
// # Reporter
//
// Reporter health-checks the services of services/*.yaml and keeps one
// ephemeral znode per healthy service port in ZooKeeper. It is three kinds
// of goroutines:
//
//   - One checker per service file runs check rounds: every check of every
//     port at once, each under its timeout, and the next round only after
//     the last one has finished (rounds never overlap), interval after the
//     start of the previous one.
//   - The main loop owns all state. It applies each round's results to the
//     rise/fall state machine (model.PortHealth), follows config changes
//     (model.Load, last good per file; editing a service keeps its checks'
//     history), and computes the znodes each discovery should hold
//     (registration.Wanted).
//   - One registrar per discovery config owns a ZooKeeper session and
//     converges the znodes there to what the main loop wants, the way the
//     writer converges HAProxy: registration.Make → log the plan → carry it
//     out against the Registry → outcomes, inspections of the watched
//     znodes and session changes back into its registration.State. The
//     plan compares what is wanted with what was done under the current
//     session, so after a session expired every registration is made
//     again. A failed operation is retried with backoff (250 ms doubling to
//     5 s).
//
// On shutdown (the context is cancelled, e.g. on SIGTERM) the checkers
// stop, each registrar deletes every znode it may own and then closes its
// session, and Run returns: well within a second when ZooKeeper answers.
package runtime
