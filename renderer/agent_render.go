package renderer

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// nextDue starts the reload retries that are due and returns the earliest
// time a job or a reload retry is due, or the zero time.
func (a *Agent) nextDue() time.Time {
	next := a.retryReloads(time.Now())
	for _, j := range a.jobs {
		if at := j.dueAt(); !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next
}

// renderDue executes every job that is due, activates complete output,
// updates the watches and tells the reload groups which have settled.
func (a *Agent) renderDue(now time.Time) {
	a.settle() // a group with dirty templates must not reload between two writes
	for _, j := range a.jobs {
		if at := j.dueAt(); at.IsZero() || at.After(now) {
			continue
		}
		j.dirty, j.retryAt, j.backAt = false, time.Time{}, time.Time{}
		start := time.Now()
		j.execAt = now
		result := a.render(j, now, start)
		if result != "" {
			a.obs.Rendered(j.t.Source, result, time.Since(start))
		}
	}
	a.syncWatches()
	a.settle()
}

// render executes j and, when its output is complete and not suspicious,
// stages, checks and activates it. It returns the Observer result, or "" when
// data is missing or a check runs in the background.
func (a *Agent) render(j *job, now, start time.Time) string {
	res, err := a.execute(j)
	if errors.Is(err, template.ErrLimit) {
		// The queries it used are those it reached: the watches stay.
		a.problem(j, StateFailed, "render abandoned; the destination keeps its content", err)
		if a.opts.Once {
			j.err = err
		}
		return ResultFailed
	}
	if usedChanged(j.usedList, res.Used, res.UsedChanged) {
		j.setUsed(res.Used)
		a.usedChanged = true
	}
	j.await(res.Missing)
	if !res.Complete() {
		return "" // an error now may come from data not yet there
	}
	if err != nil {
		a.problem(j, StateFailed, "template failed; the destination keeps its content", err)
		if a.opts.Once {
			j.err = err
		}
		return ResultFailed
	}
	j.lastRender = now
	a.noteStale(j, now)
	if a.opts.Dry {
		fmt.Fprintf(a.opts.DryOut, "> %s\n%s", j.t.Dest, res.Output)
		j.rendered = true
		return ResultUnchanged
	}
	if why, until := a.comingBack(j, now); why != "" {
		j.backAt, j.held = until, nil
		a.problem(j, StateHeld, "holding the last good output", errors.New(why))
		return ResultHeld
	}
	j.inst.update(&j.t, a.store, j.used, j.counts)
	if h := holdReason(j.t, j.counts, &j.inst, j.used, j.settled); h.reason != "" {
		err := errors.New(h.reason)
		if more := len(h.keys) - 1; more > 0 {
			err = fmt.Errorf("%w (and %d more held queries)", err, more)
		}
		if a.opts.Once {
			j.err = fmt.Errorf("%s: held: %w", j.t.Dest, err)
		}
		if !slices.Equal(j.held, h.keys) {
			j.held = h.keys
		}
		a.problem(j, StateHeld, "holding the last good output", err)
		return ResultHeld
	}
	if j.bad.matches(res.Output) {
		a.log.Debug("output equals content whose reload failed; not written again", "template", j.t.Source)
		return ResultHeld
	}
	return a.activate(j, res.Output, now, start)
}

// usedChanged reports whether next, an execution's Used, differs from prev,
// the job's previous one, given the execution's UsedChanged. A Template
// returns the very same Used slice while its queries stay the same, so a
// job sharing its Template with another (or new after a config reload)
// compares the queries only when the slices differ.
func usedChanged(prev, next []watch.Spec, changed bool) bool {
	switch {
	case changed || len(prev) != len(next):
		return true
	case len(next) == 0 || &prev[0] == &next[0]:
		return false
	}
	return !slices.EqualFunc(prev, next, watch.Spec.Equal)
}

// activate stages out and, after its check if it has one, commits it. It
// returns the Observer result, or "" when the check runs in the background
// (its end reports the result).
func (a *Agent) activate(j *job, out []byte, now, start time.Time) string {
	if err := a.holdDest(j); err != nil {
		return a.writeFailed(j, now, err)
	}
	st, err := stageKnown(j.t.Dest, out, j.t.File, &j.file)
	if err != nil {
		return a.writeFailed(j, now, err)
	}
	if st.Path() == "" {
		a.baseline(j, st, out)
		if j.degraded != "" && j.good.exists && bytes.Equal(j.good.data, out) {
			j.degraded, j.bad = "", nil // the data is back to the content that reloaded
			a.log.Info("output is back to the last good content; no longer degraded", "template", j.t.Source)
		}
		a.accepted(j)
		return ResultUnchanged
	}
	p := &pendingWrite{j: j, st: st, out: out, now: now, start: start}
	if !st.Changed() || j.t.Check.IsZero() {
		return a.commit(p)
	}
	if a.workCtx != nil {
		a.checkAsync(p)
		return ""
	}
	p.err = a.check(a.ctx, j, st.Path())
	return a.checked(p)
}

// commit activates staged output. It returns the Observer result.
func (a *Agent) commit(p *pendingWrite) string {
	j := p.j
	defer p.st.Discard()
	a.baseline(j, p.st, p.out)
	var (
		changed bool
		err     error
	)
	id := a.renders + 1
	if j.group == nil {
		changed, err = p.st.Commit()
		if err == nil {
			j.good = content{data: p.out, exists: true}
		}
	} else {
		if p.st.Changed() {
			a.owed.mark(j.group) // before the commit: a crash after it still owes the reload
		}
		changed, err = j.group.activate(j.t.Dest, p.out, true, false, id, p.st.Commit)
	}
	if err != nil && !changed {
		return a.writeFailed(j, p.now, err)
	}
	var attr Attribution
	if changed {
		a.renders = id
		attr = j.changes.attribution(a.store)
	}
	a.accepted(j)
	if !changed {
		return ResultUnchanged
	}
	j.lastWrite = time.Now()
	j.lastChange = attr.String()
	a.progress.written(attr)
	args := append([]any{"template", j.t.Source, "dest", j.t.Dest, "bytes", len(p.out), "render", id}, attr.Attrs()...)
	a.log.Info("rendered", args...)
	if j.t.LogDiff {
		prev, _ := p.st.Previous()
		a.log.Info("diff", "template", j.t.Source, "render", id, "diff", UnifiedDiff(j.t.Dest, j.t.Dest, prev, p.out, MaxDiffBytes))
	}
	return ResultWritten
}

// accepted records that j's output, of the job's last execution, is in
// place: its instance counts become the accepted ones.
func (a *Agent) accepted(j *job) {
	if j.inst.accept(&j.counts) {
		a.countsChanged = true
	}
	j.rendered, j.settled, j.held = true, true, nil
	j.failures, j.retryAt = 0, time.Time{}
	j.changes.reset()
	a.problem(j, "", "", nil)
}

// baseline takes the destination's content found before the first write as
// the last good content: it is what the target was running.
func (a *Agent) baseline(j *job, st *Staged, out []byte) {
	if j.hasGood {
		return
	}
	if st.Path() == "" {
		j.good = content{data: out, exists: true}
	} else {
		prev, ok := st.Previous()
		j.good = content{data: prev, exists: ok}
	}
	j.hasGood = true
}

// writeFailed schedules a retry of a failed write with backoff.
func (a *Agent) writeFailed(j *job, now time.Time, err error) string {
	if a.opts.Once {
		j.err = err
		return ResultFailed
	}
	j.failures++
	j.dirty, j.retryAt = true, now.Add(backoffDelay(j.failures))
	a.problem(j, StateFailed, "cannot write the destination; retrying", err)
	return ResultFailed
}

// problem sets j's problem state and logs it once per change; state "" clears
// it.
func (a *Agent) problem(j *job, state, msg string, err error) {
	reason := ""
	if err != nil {
		reason = msg + ": " + err.Error()
	}
	if state == j.state && reason == j.reason {
		return
	}
	log := a.log.With("template", j.t.Source, "dest", j.t.Dest)
	switch state {
	case "":
		log.Info("template recovered", "was", j.state)
	case StateHeld:
		log.Warn(msg, "error", err)
	default:
		log.Error(msg, "error", err)
	}
	j.state, j.reason = state, reason
}

// degrade marks j degraded, logging the reason once.
func (a *Agent) degrade(j *job, reason string) {
	if j.degraded != reason {
		a.log.Error("template degraded", "template", j.t.Source, "dest", j.t.Dest, "reason", reason)
	}
	j.degraded = reason
}

// backoffDelay is the delay before retrying a failed write: doubling from
// 250ms up to 30s, less up to a fifth of it as jitter.
func backoffDelay(failures int) time.Duration {
	d := min(250*time.Millisecond<<min(failures-1, 8), 30*time.Second)
	return d - rand.N(d/5)
}

// syncWatches makes the watched queries the union of what the templates
// use, when a template's used queries changed.
func (a *Agent) syncWatches() {
	if !a.usedChanged {
		return
	}
	a.usedChanged = false
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
		a.progress.forget(key)
		a.out.answered(a.log, key, time.Now(), true)
		a.out.forgetReread(key)
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

func joinSorted(s []string) string {
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}
