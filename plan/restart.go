package plan

// Kill stops HAProxy at once: SIGKILL to its master and every worker. It
// is planned for an HAProxy whose worker stopped answering
// (Observed.Unresponsive), and a Start follows it.
type Kill struct{}

func (Kill) Kind() string   { return "kill" }
func (Kill) Target() string { return "haproxy" }
func (Kill) isAction()      {}

// restart returns the steps that bring back an HAProxy that is not running,
// or whose worker stopped answering, and the observed state once they are
// carried out. HAProxy starts on the config file on disk, the last good one,
// before anything is written: a restart must not wait for `haproxy -c` nor
// depend on writing a candidate (the disk may be full). Only when the last
// start on that very file failed (History.StartFailed) is the rendered config
// validated and written first, as for a first start without a file.
func restart(in Input) (Observed, []Step) {
	obs := in.Observed
	var steps []Step
	if obs.Running && obs.Unresponsive {
		steps = append(steps, Step{Action: Kill{}, Reason: "its worker stopped answering the admin socket"})
		obs = Observed{File: obs.File}
	}
	if obs.Running || obs.File.Len() == 0 || Fingerprint(obs.File) == in.History.StartFailed {
		return obs, steps
	}
	steps = append(steps, Step{Action: Start{}, Reason: "HAProxy is not running: start it on the config file on disk, the last good one"})
	return Observed{Running: true, Loaded: IndexConfig(obs.File), File: obs.File}, steps
}
