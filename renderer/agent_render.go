package renderer

import (
	"fmt"
	"maps"
	"path/filepath"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// job is the agent's state of one template. Only the agent loop touches it.
type job struct {
	t        Template
	used     map[string]watch.Spec
	missing  []watch.Spec
	dirty    bool      // data it used changed since its last execution
	rendered bool      // its complete output has been written once
	first    time.Time // first change of the pending window (for Wait.Max)
	last     time.Time // last change of the pending window (for Wait.Min)
	retryAt  time.Time // when a failed write is tried again
	failures int       // consecutive failed writes
	lastErr  string    // the last error logged, to log each one once
	err      error     // the execution error that ends a once run

	lastRender, lastWrite, lastReload time.Time // reported by Status
}

func newJobs(ts []Template) []*job {
	now := time.Now()
	jobs := make([]*job, len(ts))
	for i, t := range ts {
		jobs[i] = &job{t: t, dirty: true, first: now, last: now, used: map[string]watch.Spec{}}
	}
	return jobs
}

// touch marks the job dirty when it used key.
func (j *job) touch(key string, now time.Time) {
	if _, ok := j.used[key]; !ok {
		return
	}
	if !j.dirty {
		j.first = now
	}
	j.dirty, j.last = true, now
}

// dueAt returns when the job should render next, or the zero time.
func (j *job) dueAt() time.Time {
	switch {
	case !j.dirty:
		return time.Time{}
	case !j.retryAt.IsZero():
		return j.retryAt
	case !j.rendered || j.t.Wait.Min <= 0:
		return j.last // the first render is never delayed
	}
	at := j.last.Add(j.t.Wait.Min)
	if limit := j.first.Add(j.t.Wait.Max); j.t.Wait.Max > 0 && limit.Before(at) {
		at = limit
	}
	return at
}

// nextDue returns the earliest time a job is due, or the zero time.
func (a *Agent) nextDue() time.Time {
	var next time.Time
	for _, j := range a.jobs {
		if at := j.dueAt(); !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// renderDue executes every job that is due, writes complete output, queues
// the commands of changed files in config order and updates the watches.
func (a *Agent) renderDue(now time.Time) {
	var runs []commandRun
	for _, j := range a.jobs {
		if at := j.dueAt(); at.IsZero() || at.After(now) {
			continue
		}
		j.dirty, j.retryAt = false, time.Time{}
		if a.render(j, now) && !j.t.Command.IsZero() {
			runs = append(runs, commandRun{cmd: j.t.Command, timeout: j.t.CommandTimeout, dest: j.t.Dest, source: j.t.Source})
		}
	}
	a.syncWatches()
	a.cmds.enqueue(runs...)
}

// render executes j and writes its output when complete. It reports whether
// the destination changed.
func (a *Agent) render(j *job, now time.Time) bool {
	log := a.log.With("template", j.t.Source, "dest", j.t.Dest)
	start := time.Now()
	res, err := j.t.Tmpl.Execute(a.store)
	j.used = make(map[string]watch.Spec, len(res.Used))
	for _, s := range res.Used {
		j.used[s.String()] = s
	}
	j.missing = res.Missing
	if !res.Complete() {
		log.Debug("waiting for data", "missing", len(res.Missing))
		return false // an error now may come from data not yet there
	}
	j.lastRender = now
	if err != nil {
		a.obs.Rendered(j.t.Source, ResultFailed, time.Since(start))
		a.logOnce(j, "template failed; the destination keeps its content", err)
		if a.opts.Once {
			j.err = err
		}
		return false
	}
	if a.opts.Dry {
		fmt.Fprintf(a.opts.DryOut, "> %s\n%s", j.t.Dest, res.Output)
		j.rendered = true
		return false
	}
	changed, err := WriteFile(j.t.Dest, res.Output, j.t.File)
	if err != nil && a.opts.Once {
		j.err = err
		return false
	}
	if err != nil {
		a.obs.Rendered(j.t.Source, ResultFailed, time.Since(start))
		j.failures++
		j.dirty, j.retryAt = true, now.Add(backoffDelay(j.failures))
		a.logOnce(j, "cannot write the destination; retrying", err)
		return false
	}
	j.failures, j.lastErr, j.rendered = 0, "", true
	if changed {
		j.lastWrite = time.Now()
		a.obs.Rendered(j.t.Source, ResultWritten, time.Since(start))
		log.Info("rendered", "bytes", len(res.Output))
	} else {
		a.obs.Rendered(j.t.Source, ResultUnchanged, time.Since(start))
	}
	return changed
}

func (a *Agent) logOnce(j *job, msg string, err error) {
	if err.Error() == j.lastErr {
		return
	}
	j.lastErr = err.Error()
	a.log.Error(msg, "template", j.t.Source, "dest", j.t.Dest, "error", err)
}

// backoffDelay is the delay before retrying a failed write.
func backoffDelay(failures int) time.Duration {
	return min(250*time.Millisecond<<min(failures-1, 8), 30*time.Second)
}

// syncWatches makes the watched queries the union of what the templates use.
func (a *Agent) syncWatches() {
	want := map[string]watch.Spec{}
	for _, j := range a.jobs {
		maps.Copy(want, j.used)
	}
	if len(want) == len(a.watched) && sameKeys(want, a.watched) {
		return
	}
	specs := make([]watch.Spec, 0, len(want))
	for _, s := range want {
		specs = append(specs, s)
	}
	forgotten, err := a.watcher.Sync(specs)
	if err != nil {
		a.log.Error("cannot watch a query", "error", err)
	}
	for _, key := range forgotten {
		a.store.Delete(key)
	}
	a.watched = want
}

func sameKeys(a, b map[string]watch.Spec) bool {
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func dirOf(path string) string { return filepath.Dir(path) }
