// Package zk holds lighthouse's ZooKeeper code: the reporter's Registry,
// the writer's membership Watcher, and what both connect with (the dialer
// that leaves a hung server, the Security of discovery's auth, acl and tls
// keys, the Identity a reporter registers under).
//
// # Registry
//
// Registry registers the reporter's services in ZooKeeper: one ephemeral
// znode per healthy service port, owned by the reporter's session. It does
// what it is told; deciding what to register, and when to do it again after
// a session expired, is the runtime's job.
//
// The ZooKeeper client (go-zookeeper) connects in the background and
// reconnects by itself: it tries each server of the list in turn and waits
// a second after each round that failed, so an unreachable ensemble is never
// hammered. A server that accepts the connection but does not answer (hung,
// stopped) is left after HandshakeTimeout, a third of the session timeout
// (see Dialer). While there is no session, Register and Deregister fail at
// once with ErrNoSession.
//
// With discovery's auth, acl and tls keys (see Security), the client
// connects over TLS, submits its digest credentials before any request, and
// gives the configured ACL to what it creates; without them it speaks
// plain TCP, anonymously, and creates world:anyone:cdrwa, as the original.
//
// # Watcher
//
// Watcher watches cluster members in ZooKeeper for the writer:
// the children of <path>/<cluster> and each child's data, delivered as
// whole-cluster snapshots. While ZooKeeper cannot be reached a cluster's
// membership is reported unknown and its last known nodes stand.
//
// A missing cluster znode is unknown too, never empty: a deleted
// <path>/<cluster>, or a path with a typo, keeps the last known members and
// is warned about, naming the znode. The one exception is a cluster whose
// znode has not existed in the ensemble since the process started: it is
// empty (a cluster nobody has registered into yet). Either way the znode is
// watched until it appears. What has existed is remembered per ensemble
// (its host list) and cluster name for the life of the process, across
// Watchers: a writer that reconnects because the discovery path changed
// still knows which clusters it has seen.
package zk
