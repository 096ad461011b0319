// Package haproxy is the shell's hands on the local HAProxy (2.6, 2.8, 3.0,
// 3.2 and 3.4, each tested against the real release): the admin socket (the
// runtime API), the master-worker process (start, validated graceful reload,
// stop) and the config file on disk.
//
// Where releases answer differently, the answers are data: Socket.Version
// and Process.Version select the release's haproxyapi.Answers (success
// sentences, refusals, how `show proc` and `reload` read), and the zero
// Version understands them all. The answers of every release are recorded
// in testdata/answers (see answers_test.go).
//
// Three concrete types, no interfaces (the runtime declares the small
// interfaces it needs):
//
//   - Socket talks to a `stats socket ... level admin`: one connection per
//     command, answers parsed (ShowInfo, ShowServersState, ShowStat) or
//     checked (AddServer, SetServerState, ...). HAProxy answers an action it
//     carried out with an empty line or a sentence of the release's data
//     ("New server registered.", "port changed from ..."); any other answer
//     is an error, and the known refusals map to sentinels usable with
//     errors.Is (ErrNoSuchServer, ErrNotDynamic, ...) inside a *CommandError
//     that keeps the command and HAProxy's words.
//     Arguments are checked before anything is sent: a name, address or
//     option can never add a command (no ";", no control characters) and a
//     port is 1..65535 (HAProxy itself takes 70000 as 4464).
//   - Process runs `haproxy -W -D` (daemonized master-worker, so HAProxy
//     outlives the writer) and drives it through the master CLI socket.
//     Start and Reload return once a worker serves the config (3.1 on, a
//     listed worker may still be loading); Reload reads the outcome the
//     master reports (2.7 on) and confirms it from `show proc`; a failed
//     reload is an error carrying HAProxy's alerts while the old worker
//     keeps serving. Running trusts a
//     pid file only when the pid is a live haproxy process.
//   - WriteFileAtomic, WriteCandidate and Install put config files in place
//     without ever exposing a partial file: write beside, fsync, rename,
//     fsync the directory; identical content is not written again.
//
// Local puts them together for the writer. It speaks in rows declared in
// model/haproxyapi, not in the planner's terms: Observe and ObserveBackends
// return a haproxyapi.Observation, and Apply carries out a batch of
// haproxyapi.Change. The runtime translates plans and observations; this
// package imports nothing of the core but model.
//
// # Conventions
//
// The master CLI socket lives beside the admin socket: MasterSocketPath
// appends ".master" to the admin socket's path. Both paths must stay within
// 97 characters (HAProxy's limit for unix socket paths).
//
// HAProxy runs with its working directory set to the directory of its config
// file, and Validate runs `haproxy -c` the same way, so relative paths in the
// config (errorfile, certificates) mean the same thing to both.
//
// Every error names the operation and its target and wraps its cause with %w.
package haproxy
