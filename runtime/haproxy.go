package runtime

import (
	"lighthouse/model/haproxyapi"
	"lighthouse/plan"
)

// The writer and the shell's HAProxy speak in rows of their own
// (haproxyapi.Observation, haproxyapi.Change), so that the shell needs
// nothing of the planner. This file turns them into the planner's terms and
// back.

// ObservedFrom is the planner's input from what the shell saw of HAProxy.
// The server rows are the planner's servers as they are (plan.Server is
// haproxyapi.ServerRow): they are not copied. The index of the loaded
// config (plan.Observed.Loaded) is the runtime's to add: the shell cannot
// know what HAProxy loaded.
func ObservedFrom(o haproxyapi.Observation) plan.Observed {
	return plan.Observed{Running: o.Running, Unresponsive: o.Unresponsive, File: o.File, Servers: o.Servers}
}

// runtimeChange is the admin socket command that carries out a, and false
// when a is not a runtime change (a file, a process or a reload step).
func runtimeChange(a plan.Action) (haproxyapi.Change, bool) {
	switch a := a.(type) {
	case plan.AddServer:
		return haproxyapi.Change{Op: haproxyapi.OpAddServer, Backend: a.Backend, Server: a.Server, Addr: a.Addr, Port: a.Port, Options: a.Options}, true
	case plan.RemoveServer:
		return haproxyapi.Change{Op: haproxyapi.OpDelServer, Backend: a.Backend, Server: a.Server}, true
	case plan.EnableHealth:
		return haproxyapi.Change{Op: haproxyapi.OpEnableHealth, Backend: a.Backend, Server: a.Server}, true
	case plan.ShutdownSessions:
		return haproxyapi.Change{Op: haproxyapi.OpShutdownSessions, Backend: a.Backend, Server: a.Server}, true
	case plan.SetServerState:
		return haproxyapi.Change{Op: haproxyapi.OpSetState, Backend: a.Backend, Server: a.Server, State: a.State}, true
	case plan.SetServerAddr:
		return haproxyapi.Change{Op: haproxyapi.OpSetAddr, Backend: a.Backend, Server: a.Server, Addr: a.Addr, Port: a.Port}, true
	case plan.SetWeight:
		return haproxyapi.Change{Op: haproxyapi.OpSetWeight, Backend: a.Backend, Server: a.Server, Weight: a.Weight}, true
	case plan.Validate, plan.WriteFile, plan.Kill, plan.Start, plan.SaveState, plan.Reload:
		return haproxyapi.Change{}, false
	}
	return haproxyapi.Change{}, false
}
