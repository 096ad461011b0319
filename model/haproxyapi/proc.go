package haproxyapi

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Proc is one process line of the master CLI's `show proc`.
type Proc struct {
	PID  int
	Type string // "master" or "worker"
	// Reloads is, for the master, the number of reloads since it started;
	// for a worker, how many reloads it has lived through.
	Reloads int
	Uptime  string // as HAProxy prints it, e.g. "0d00h01m25s"
	Version string
}

// ProcList is the master CLI's `show proc`, read the same way for every
// release.
type ProcList struct {
	// Master is the master process; its PID is 0 when the master line could
	// not be parsed.
	Master Proc
	// Failed is the number of failed reloads since the last successful one
	// ("[failed: N]"; a successful reload resets it to 0).
	Failed int
	// Workers are the current workers: the ones the last successful
	// (re)load started, which serve the loaded config. After a failed
	// reload that is the worker that keeps serving, also where the release
	// lists it among the old workers (ProcAnswers,
	// ServingWorkerAmongOld). From 3.1 on a worker is listed while it still
	// loads (ListsLoadingWorker): a current worker is not necessarily
	// serving yet.
	Workers []Proc
	// OldWorkers are workers of earlier configs still finishing their
	// connections.
	OldWorkers []Proc
}

var masterLine = regexp.MustCompile(`^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]\s+(\S+)\s+(\S+)`)

// ParseProc reads `show proc` as release a lists it:
//
//	#<PID>          <type>          <reloads>       <uptime>        <version>
//	3004            master          1 [failed: 0]   0d00h01m25s     2.6.12-1+deb12u4
//	# workers
//	3953            worker          0               0d00h00m00s     2.6.12-1+deb12u4
//	# old workers
//	3010            worker          1               0d00h01m25s     2.6.12-1+deb12u4
//	# programs
//
// Where the release lists the worker that survived a failed reload among
// the old ones (3.1 on: "# workers" is empty, "[failed: N]" above 0), that
// worker, the old one that has lived through the fewest reloads, is moved
// to Workers.
func ParseProc(answer string, a Answers) (ProcList, error) {
	var pl ProcList
	section := ""
	seenHeader := false
	for _, line := range strings.Split(answer, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#<PID>") {
			seenHeader = true
			continue
		}
		if m := masterLine.FindStringSubmatch(line); m != nil {
			pl.Master.PID, _ = strconv.Atoi(m[1])
			pl.Master.Type = "master"
			pl.Master.Reloads, _ = strconv.Atoi(m[2])
			pl.Failed, _ = strconv.Atoi(m[3])
			pl.Master.Uptime, pl.Master.Version = m[4], m[5]
			continue
		}
		if strings.HasPrefix(line, "#") {
			section = strings.TrimSpace(line[1:])
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 || f[1] != "worker" {
			continue
		}
		pid, err := strconv.Atoi(f[0])
		if err != nil {
			continue
		}
		p := Proc{PID: pid, Type: f[1]}
		p.Reloads, _ = strconv.Atoi(f[2])
		if len(f) > 3 {
			p.Uptime = f[3]
		}
		if len(f) > 4 {
			p.Version = f[4]
		}
		switch section {
		case "workers":
			pl.Workers = append(pl.Workers, p)
		case "old workers":
			pl.OldWorkers = append(pl.OldWorkers, p)
		}
	}
	if !seenHeader && pl.Master.PID == 0 {
		return ProcList{}, errors.New("not a `show proc` answer")
	}
	if a.Proc.ServingWorkerAmongOld && len(pl.Workers) == 0 && pl.Failed > 0 && len(pl.OldWorkers) > 0 {
		k := 0
		for i, w := range pl.OldWorkers {
			if w.Reloads < pl.OldWorkers[k].Reloads {
				k = i
			}
		}
		pl.Workers = []Proc{pl.OldWorkers[k]}
		pl.OldWorkers = slices.Delete(slices.Clone(pl.OldWorkers), k, k+1)
	}
	return pl, nil
}
