package renderer

import (
	"bytes"
	"crypto/sha256"
	"path/filepath"
	"time"

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
	backAt      time.Time           // when a wait for a datacenter coming back ends
	failures    int                 // consecutive failed writes
	err         error               // the error that ends a once run

	state, reason string         // a problem ("held" or "failed") and why; "" when none
	degraded      string         // why the last reload failed; "" when it did not
	good          content        // the last content activated and reloaded successfully
	hasGood       bool           // whether good is known
	bad           *fingerprint   // content whose reload failed: never written again
	counts        map[string]int // entries per counted query at the last accepted render
	inst          instances      // the entries now, and how they differ from counts
	file          fileMemo       // what the destination is known to hold
	changes       changeLog      // what changed since the output was last accepted
	lastChange    string         // the attribution of the last write, for Status
	held          []string       // the queries holding its render (read-only once published)
	// settled is set once the job accepted a render in this configuration:
	// from then on, a counted query it stops using holds its render (it
	// vanished from a listing). Counts inherited from an earlier
	// configuration or run are for another template text, perhaps.
	settled bool
	// staleLogged are the datacenters whose stale data a render of the job
	// was logged for, during their current outage.
	staleLogged []string
	dcs         []string // the other datacenters it reads (read-only once published)

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
	j.changes, j.lastChange = prev.changes, prev.lastChange
	j.file = prev.file
}

// touch marks the job dirty when it used key, and reports whether it did.
func (j *job) touch(key string, now time.Time) bool {
	s, ok := j.used[key]
	if !ok {
		return false
	}
	if j.t.counted(s) {
		j.inst.changed(key, len(j.used))
	}
	delete(j.waiting, key)
	if !j.dirty {
		j.first = now
	}
	j.dirty, j.last = true, now
	return true
}

// dueAt returns when the job should render next, or the zero time.
func (j *job) dueAt() time.Time {
	at := j.dataDue()
	if !j.backAt.IsZero() && (at.IsZero() || j.backAt.Before(at)) {
		return j.backAt // renders then whether or not the failing queries answered
	}
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

// setUsed makes used the job's used queries.
func (j *job) setUsed(used []watch.Spec) {
	j.usedList = used
	j.used = make(map[string]watch.Spec, len(used))
	for _, s := range used {
		j.used[s.String()] = s
	}
	j.inst.invalidate()
	j.dcs = j.datacentersOf()
}

// await records the queries the job's last execution missed as the ones it
// waits for, and their keys for Status.
func (j *job) await(missing []watch.Spec) {
	j.missing = missing
	if len(missing) == 0 {
		j.waiting, j.missingKeys = nil, nil
		return
	}
	j.waiting = make(map[string]struct{}, len(missing))
	j.missingKeys = make([]string, len(missing)) // read-only once published
	for i, s := range missing {
		key := s.String()
		j.waiting[key], j.missingKeys[i] = struct{}{}, key
	}
}

// status returns the job's state as reported by Status.
func (j *job) status() TemplateStatus {
	ts := TemplateStatus{
		Source: j.t.Source, Dest: j.t.Dest, State: StatePending,
		LastRender: j.lastRender, LastWrite: j.lastWrite, LastReload: j.lastReload, LastChange: j.lastChange,
		Datacenters: j.dcs, ReadyIgnore: j.t.ReadyIgnore,
	}
	ts.Missing = j.missingKeys
	if j.state == StateHeld {
		ts.Held = j.held
	}
	switch {
	case j.state != "":
		ts.State, ts.Reason = j.state, j.reason
	case j.degraded != "":
		ts.State, ts.Reason = StateDegraded, j.degraded
	case j.rendered:
		ts.State = StateOK
	}
	return ts
}

// ready reports whether j has rendered once or holds good content.
func (j *job) ready() bool {
	return j.rendered || (j.state == StateHeld && j.hasGood && j.good.exists)
}

// incompleteInterval spaces the executions of a template that used queries
// without data while some of those have still not arrived. At a cold start
// the answers of a template's queries (a thousand `service` calls in a
// `range services`) arrive over a second or more: executing it for every
// batch would cost as many full passes over the template, when its output
// cannot be used before the last one. Once every missing query has arrived
// the template executes at once; the interval only bounds how long a query
// that may never arrive (a `key` of an absent key) delays the discovery of
// the queries that data which did arrive leads to. A complete template is
// never delayed by it.
const incompleteInterval = 50 * time.Millisecond

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
