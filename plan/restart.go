package plan

import (
	"fmt"
	"time"
)

// Kill stops HAProxy at once: SIGKILL to its master and every worker. It
// is planned for an HAProxy whose worker stopped answering
// (Observed.Unresponsive), and a Start follows it.
type Kill struct{}

func (Kill) Kind() string   { return "kill" }
func (Kill) Target() string { return "haproxy" }
func (Kill) isAction()      {}

// StartRetry is how long after a failed start on the config file on disk
// that file is not started on again (History.StartFailed).
const StartRetry = 10 * time.Second

// restart returns the steps that bring back an HAProxy that is not running,
// or whose worker stopped answering, and the observed state once they are
// carried out. HAProxy starts on the config file on disk, the last good one,
// before anything is written: a restart must not wait for `haproxy -c` nor
// depend on writing a candidate (the disk may be full). Only when the last
// start on that very file failed less than StartRetry ago
// (History.StartFailed) is the rendered config validated and written first,
// as for a first start without a file.
func restart(in Input) (Observed, []Step) {
	obs := in.Observed
	var steps []Step
	if obs.Running && obs.Unresponsive {
		steps = append(steps, Step{Action: Kill{}, Reason: "its worker stopped answering the admin socket"})
		obs = Observed{File: obs.File}
	}
	if obs.Running || obs.File.Len() == 0 {
		return obs, steps
	}
	why := "HAProxy is not running: start it on the config file on disk, the last good one"
	if h := in.History; Fingerprint(obs.File) == h.StartFailed {
		if in.Now.Before(h.StartFailedAt.Add(StartRetry)) {
			return obs, steps
		}
		why = fmt.Sprintf("HAProxy is not running, and the start on the config file on disk failed %s ago: try that file again", in.Now.Sub(h.StartFailedAt).Round(time.Millisecond))
	}
	steps = append(steps, Step{Action: Start{}, Reason: why})
	return Observed{Running: true, Loaded: IndexConfig(obs.File), File: obs.File}, steps
}
