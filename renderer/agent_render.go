package renderer

import (
	"bytes"
	"crypto/sha256"
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

// job is the agent's state of one template. Only the agent loop touches it.
type job struct {
	t        Template
	group    *group                // the templates sharing its command; nil without one
	used     map[string]watch.Spec // by key: the queries of usedList
	usedList []watch.Spec          // the last execution's Used (read-only)
	missing  []watch.Spec
	// missingKeys are the keys of missing, shared with published Status
	// snapshots: replaced, never modified.
	missingKeys []string
	waiting     map[string]struct{} // the missing queries that have not arrived since
	execAt      time.Time           // when the job last executed
	dirty       bool                // data it used changed since its last execution
	checking    bool                // a check of its staged output runs in the background
	rendered    bool                // its complete output is in place
	first       time.Time           // first change of the pending window (for Wait.Max)
	last        time.Time           // last change of the pending window (for Wait.Min)
	retryAt     time.Time           // when a failed write is tried again
	failures    int                 // consecutive failed writes
	err         error               // the error that ends a once run

	state, reason string         // a problem ("held" or "failed") and why; "" when none
	degraded      string         // why the last reload failed; "" when it did not
	good          content        // the last content activated and reloaded successfully
	hasGood       bool           // whether good is known
	bad           *fingerprint   // content whose reload failed: never written again
	counts        map[string]int // instances per health service query at the last accepted render
	inst          instances      // the instances now, and how they differ from counts
	file          fileMemo       // what the destination is known to hold

	lastRender, lastWrite, lastReload time.Time // reported by Status
}

// content is a destination's content, or its absence.
type content struct {
	data   []byte
	exists bool
}

func (c content) equal(v version) bool { return c.exists == v.exists && bytes.Equal(c.data, v.content) }

// fingerprint identifies content without keeping it: its size, then its
// hash, so that content of another size is told apart without hashing it.
type fingerprint struct {
	size int
	sum  [sha256.Size]byte
}

func fingerprintOf(b []byte) *fingerprint { return &fingerprint{size: len(b), sum: sha256.Sum256(b)} }

// matches reports whether b is the content f identifies; a nil f matches
// nothing.
func (f *fingerprint) matches(b []byte) bool {
	return f != nil && len(b) == f.size && sha256.Sum256(b) == f.sum
}

func newJobs(ts []Template) []*job {
	now := time.Now()
	jobs := make([]*job, len(ts))
	for i, t := range ts {
		t.Dest = filepath.Clean(t.Dest) // one path for the directory, the staged file and the rename
		jobs[i] = &job{t: t, dirty: true, first: now, last: now, used: map[string]watch.Spec{}}
	}
	return jobs
}

// inherit keeps what prev, the job of the same destination before a config
// reload, knew of the destination.
func (j *job) inherit(prev *job) {
	j.degraded, j.good, j.hasGood, j.bad, j.counts = prev.degraded, prev.good, prev.hasGood, prev.bad, prev.counts
	j.lastRender, j.lastWrite, j.lastReload = prev.lastRender, prev.lastWrite, prev.lastReload
	j.file = prev.file
}

// touch marks the job dirty when it used key.
func (j *job) touch(key string, now time.Time) {
	s, ok := j.used[key]
	if !ok {
		return
	}
	if s.Kind == watch.KindHealthService {
		j.inst.changed(key, len(j.used))
	}
	delete(j.waiting, key)
	if !j.dirty {
		j.first = now
	}
	j.dirty, j.last = true, now
}

// dueAt returns when the job should render next, or the zero time.
func (j *job) dueAt() time.Time {
	at := j.dataDue()
	if at.IsZero() || len(j.waiting) == 0 {
		return at
	}
	return latest(at, j.execAt.Add(incompleteInterval))
}

// dataDue returns when the job should render next given when its data
// changed and its wait window, or the zero time.
func (j *job) dataDue() time.Time {
	switch {
	case !j.dirty || j.checking:
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
		j.dirty, j.retryAt = false, time.Time{}
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
	if a.opts.Dry {
		fmt.Fprintf(a.opts.DryOut, "> %s\n%s", j.t.Dest, res.Output)
		j.rendered = true
		return ResultUnchanged
	}
	j.inst.update(a.store, j.used, j.counts)
	if reason := holdReason(j.t, j.counts, &j.inst); reason != "" {
		err := errors.New(reason)
		if a.opts.Once {
			j.err = fmt.Errorf("%s: held: %w", j.t.Dest, err)
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
	return !slices.EqualFunc(prev, next, sameSpec)
}

// sameSpec reports whether a and b are the same query.
func sameSpec(a, b watch.Spec) bool {
	return a.Kind == b.Kind && a.Name == b.Name && a.Tag == b.Tag && a.DC == b.DC && a.Near == b.Near &&
		slices.Equal(a.Status, b.Status) && a.Namespace == b.Namespace && a.Partition == b.Partition &&
		a.Peer == b.Peer && a.SamenessGroup == b.SamenessGroup
}

// setUsed makes used the job's used queries.
func (j *job) setUsed(used []watch.Spec) {
	j.usedList = used
	j.used = make(map[string]watch.Spec, len(used))
	for _, s := range used {
		j.used[s.String()] = s
	}
	j.inst.invalidate()
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
	if j.group == nil {
		changed, err = p.st.Commit()
		if err == nil {
			j.good = content{data: p.out, exists: true}
		}
	} else {
		if p.st.Changed() {
			a.owed.mark(j.group) // before the commit: a crash after it still owes the reload
		}
		changed, err = j.group.activate(j.t.Dest, p.out, true, false, p.st.Commit)
	}
	if err != nil && !changed {
		return a.writeFailed(j, p.now, err)
	}
	a.accepted(j)
	if !changed {
		return ResultUnchanged
	}
	j.lastWrite = time.Now()
	a.log.Info("rendered", "template", j.t.Source, "dest", j.t.Dest, "bytes", len(p.out))
	return ResultWritten
}

// accepted records that j's output, of the job's last execution, is in
// place: its instance counts become the accepted ones.
func (a *Agent) accepted(j *job) {
	if j.inst.accept(&j.counts) {
		a.countsChanged = true
	}
	j.rendered = true
	j.failures, j.retryAt = 0, time.Time{}
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
