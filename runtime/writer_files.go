package runtime

import (
	"context"
	"errors"
	"strconv"
	"time"

	"lighthouse/model"
	"lighthouse/model/configtext"
	"lighthouse/model/haproxyapi"
	"lighthouse/plan"
	"lighthouse/render"
)

// fileJob is a validate-and-install handed to the file syncer (handOff).
type fileJob struct {
	hap      HAProxy
	validate plan.Validate
	gen      uint64
}

// fileResult is the syncer's outcome of a job: done, or the step that
// failed (rejected: by `haproxy -c`).
type fileResult struct {
	validate plan.Validate
	failed   plan.Action
	err      error
	rejected bool
}

// errHandedOff ends a plan whose remaining steps only bring the config
// file up to date: the file syncer does them.
var errHandedOff = errors.New("file update handed to the syncer")

// handOff queues a validate-and-install for the syncer; a newer one
// replaces a queued older one.
func (w *Writer) handOff(v plan.Validate) {
	if w.syncing == v.Fingerprint {
		return
	}
	w.syncing = v.Fingerprint
	job := fileJob{hap: w.hap, validate: v, gen: w.fileGen.Load()}
	select {
	case <-w.fileJobs: // drop the older queued job
	default:
	}
	w.fileJobs <- job
}

// syncFiles validates and installs the files handed off, one at a time.
func (w *Writer) syncFiles(ctx context.Context) {
	for job := range w.fileJobs {
		w.fileMu.Lock()
		r := fileResult{validate: job.validate}
		if job.gen == w.fileGen.Load() {
			r.err = job.hap.Validate(ctx, job.validate.Data)
			var rej rejection
			r.rejected = errors.As(r.err, &rej)
			if r.err != nil {
				r.failed = job.validate
			} else if r.err = job.hap.Install(ctx, job.validate.Data); r.err != nil {
				r.failed = writeOf(job.validate)
			}
		}
		w.fileMu.Unlock()
		select {
		case w.fileDone <- r:
		case <-ctx.Done():
		}
	}
}

// writeOf is the WriteFile step that follows a Validate step.
func writeOf(v plan.Validate) plan.WriteFile {
	return plan.WriteFile{Path: v.Path, Data: v.Data, Fingerprint: v.Fingerprint}
}

// fileSynced takes the syncer's outcome back as input.
func (w *Writer) fileSynced(r fileResult) {
	if w.syncing == r.validate.Fingerprint {
		w.syncing = ""
	}
	out := plan.Outcome{At: time.Now(), Failed: r.failed, Err: r.err, Rejected: r.rejected}
	var rej rejection
	switch {
	case r.rejected && errors.As(r.err, &rej):
		w.logRejection(rej, r.validate.Data)
	case r.err != nil:
		w.writeFailed(r.err)
	default:
		out.Done = []plan.Action{r.validate, writeOf(r.validate)}
		w.writeOK()
	}
	w.planner.Record(out)
}

// writeFailed logs that a config file could not be written (a full disk,
// a path that is not writable): the planner installs nothing for a while,
// runtime changes go on, and writing is tried again after a backoff (the
// planner's). The failure is logged when writing stops working, and again
// only once it works again.
func (w *Writer) writeFailed(err error) {
	if w.writeErr == "" {
		w.writeErr = err.Error()
		w.Log.Error("the config file cannot be written; the last good one stays, runtime changes go on, and it is tried again with a backoff", "err", err)
	} else {
		w.Log.Debug("the config file still cannot be written", "err", err)
	}
}

// writeOK logs that a config file is written again.
func (w *Writer) writeOK() {
	if w.writeErr != "" {
		w.Log.Info("the config file is written again")
	}
	w.writeErr = ""
}

// logRejection logs what haproxy -c refused in a candidate, each alert at
// the file, line and key of the config that produced the line it names.
func (w *Writer) logRejection(rej rejection, data configtext.Text) {
	text := data.String()
	var cfg *model.Config
	if w.snap != nil {
		cfg = &w.snap.Config
	}
	for _, a := range rej.Alerts() {
		if haproxyapi.SummaryAlert(a) {
			continue
		}
		at := "the rendered config"
		if pos, ok := render.LocateAlert(cfg, text, a); ok {
			at = pos.File
			if pos.Line > 0 {
				at += ":" + strconv.Itoa(pos.Line)
			}
			if pos.Key != "" {
				at += ": " + pos.Key
			}
		}
		w.Log.Error("haproxy -c rejected the config file; the last good one stays", "at", at, "alert", a)
	}
}
