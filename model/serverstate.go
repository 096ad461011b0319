package model

// ServerState is the administrative state of a server in HAProxy: what
// `set server ... state` sets, and what `show servers state` reports once
// read.
type ServerState string

// The three administrative states.
const (
	ServerReady ServerState = "ready" // takes traffic (if its health checks pass)
	ServerDrain ServerState = "drain" // no new connections except persistent ones
	ServerMaint ServerState = "maint" // no traffic; health checks paused
)
