package haproxyapi

import (
	"lighthouse/model"
	"lighthouse/model/configtext"
)

// Observation is what the shell saw of the local HAProxy: whether it runs,
// the config file on disk and the rows of `show servers state`. The
// runtime turns it into the planner's input.
type Observation struct {
	// Running is true when an HAProxy master runs on the pid file.
	Running bool
	// Unresponsive is true when the master runs but its worker stopped
	// answering the admin socket (a few probes in a row without an answer
	// within their short deadline).
	Unresponsive bool
	// File is the config file on disk now; empty when it does not exist.
	File configtext.Text
	// Servers are the rows of `show servers state`, by backend; nil when
	// the admin socket could not be asked.
	Servers map[string][]ServerRow
}

// ServerRow is one server of a backend as `show servers state` reports it:
// the columns the writer reads.
type ServerRow struct {
	Name string
	// Addr is the server's IP address; "" when it has none.
	Addr string
	Port int
	// State is what srv_admin_state makes of the server: maint, drain or
	// ready.
	State model.ServerState
	// Weight is the server's current weight (srv_uweight), 0..256.
	Weight int
}
