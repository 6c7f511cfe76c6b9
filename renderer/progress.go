package renderer

import (
	"cmp"
	"fmt"
	"maps"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// defaultProgressInterval is the least time between two start-up progress
// lines unless Options.ProgressInterval says otherwise.
const defaultProgressInterval = 5 * time.Second

// InstanceCount is the number of instances a health service query returns.
type InstanceCount struct {
	Passing int `json:"passing"`
	Total   int `json:"total"`
	// PassingOnly: the query asks for passing instances only (Consul
	// filters the others out), so Total counts passing instances too and
	// says nothing of those failing.
	PassingOnly bool `json:"passing_only,omitempty"`
}

// ChangeCounts are the instance changes of every write since the agent
// started: the sums of the writes' attributions.
type ChangeCounts struct {
	Added, Removed, Modified uint64
}

// progress follows start-up (queries answered) and the instances of every
// health service query. Only the agent loop touches it.
type progress struct {
	started time.Time
	logged  time.Time // the last progress line
	done    bool      // every template rendered once
	waiting int       // watched queries without data, as of the last tick
	total   int       // watched queries, as of the last tick

	counts    map[string]InstanceCount // by query key: health service queries with data
	dirty     bool                     // counts changed since published was taken
	published map[string]InstanceCount // read-only once published
	changes   ChangeCounts
}

// changed records the new value of key, a query of spec.
func (p *progress) changed(key string, spec watch.Spec, v any) {
	list, ok := instancesOf(v)
	if !ok {
		return
	}
	c := InstanceCount{Total: len(list), PassingOnly: passingOnly(spec)}
	for _, s := range list {
		if s.Status == watch.StatusPassing {
			c.Passing++
		}
	}
	if p.counts == nil {
		p.counts = map[string]InstanceCount{}
	}
	if p.counts[key] != c {
		p.counts[key], p.dirty = c, true
	}
}

// passingOnly reports whether spec returns passing instances only: a
// service query without a status filter (Consul filters), or one asking
// for passing alone.
func passingOnly(spec watch.Spec) bool {
	for _, st := range spec.Status {
		if st != watch.StatusPassing {
			return false
		}
	}
	return true
}

// forget drops a query no template uses any more.
func (p *progress) forget(key string) {
	if _, ok := p.counts[key]; ok {
		delete(p.counts, key)
		p.dirty = true
	}
}

// written adds a write's attribution to the change counts.
func (p *progress) written(a Attribution) {
	p.changes.Added += uint64(a.NAdded)
	p.changes.Removed += uint64(a.NRemoved)
	p.changes.Modified += uint64(a.NModified)
}

// snapshot returns the instance counts to publish, taken again only when
// they changed since the last snapshot.
func (p *progress) snapshot() map[string]InstanceCount {
	if p.dirty || p.published == nil {
		p.published, p.dirty = maps.Clone(p.counts), false
		if p.published == nil {
			p.published = map[string]InstanceCount{}
		}
	}
	return p.published
}

// progressTick counts the queries still awaited and, until
// every template has rendered once, logs how many at most every
// Options.ProgressInterval (the first time one interval after the start).
func (a *Agent) progressTick(now time.Time) {
	p := &a.progress
	if p.done {
		return
	}
	if p.started.IsZero() {
		p.started, p.logged = now, now
	}
	// Waiting: the queries a template waits for (no data yet, or a key
	// that does not exist yet), and watched queries without data.
	waiting := map[string]struct{}{}
	for key := range a.watched {
		if _, ok := a.store.Get(key); !ok {
			waiting[key] = struct{}{}
		}
	}
	pending := 0
	for _, j := range a.jobs {
		if !j.rendered {
			pending++
		}
		for _, key := range j.missingKeys {
			waiting[key] = struct{}{}
		}
	}
	p.total, p.waiting = max(len(a.watched), len(waiting)), len(waiting)
	if pending == 0 {
		p.done, p.waiting = true, 0
		return
	}
	if now.Sub(p.logged) < cmp.Or(a.opts.ProgressInterval, defaultProgressInterval) {
		return
	}
	p.logged = now
	a.log.Info(fmt.Sprintf("waiting for %d of %d queries", p.waiting, p.total),
		"templates_pending", pending, "elapsed", now.Sub(p.started).Round(time.Second).String())
}
