package haproxyapi

import (
	"strconv"

	"lighthouse/model"
)

// Change is one change to a server through the admin socket, a command of
// the runtime API. Op says which; the other fields are its arguments, each
// read by the operations its comment names.
type Change struct {
	Op              Op
	Backend, Server string
	// Addr and Port are the server's address: OpAddServer, OpSetAddr.
	Addr string
	Port int
	// Options are the `add server` settings: OpAddServer.
	Options string
	// State is the administrative state to set: OpSetState.
	State model.ServerState
	// Weight is the weight to set, 0..256: OpSetWeight.
	Weight int
}

// Op is a runtime API command that changes a server.
type Op int

// The runtime changes.
const (
	// OpAddServer adds a server (`add server`): it arrives in maintenance,
	// with its health checks off.
	OpAddServer Op = iota + 1
	// OpDelServer deletes a server in maintenance (`del server`).
	OpDelServer
	// OpEnableHealth starts a server's health checks (`enable health`).
	OpEnableHealth
	// OpShutdownSessions cuts a server's requests in flight (`shutdown
	// sessions server`).
	OpShutdownSessions
	// OpSetState sets a server's administrative state (`set server ...
	// state`).
	OpSetState
	// OpSetAddr moves a server (`set server ... addr ... port`).
	OpSetAddr
	// OpSetWeight sets a server's weight (`set server ... weight`).
	OpSetWeight
)

var opNames = [...]string{
	OpAddServer:        "add server",
	OpDelServer:        "del server",
	OpEnableHealth:     "enable health",
	OpShutdownSessions: "shutdown sessions server",
	OpSetState:         "set server state",
	OpSetAddr:          "set server addr",
	OpSetWeight:        "set server weight",
}

// String is the command's name, e.g. "add server".
func (o Op) String() string {
	if o > 0 && int(o) < len(opNames) {
		return opNames[o]
	}
	return "op " + strconv.Itoa(int(o))
}

// Target names the server the change is about: "backend/server".
func (c Change) Target() string { return c.Backend + "/" + c.Server }
