package renderer

import (
	"slices"
	"time"
)

// Template states reported in [TemplateStatus.State].
const (
	StatePending  = "pending"  // not rendered yet: waiting for data
	StateOK       = "ok"       // the destination holds the latest complete output
	StateHeld     = "held"     // a suspicious or failing render is held back; the last good output stays
	StateDegraded = "degraded" // a reload failed; the last good content was restored
	StateFailed   = "failed"   // the template cannot be rendered or written
)

// Render results passed to [Observer.Rendered].
const (
	ResultWritten   = "written"
	ResultUnchanged = "unchanged"
	ResultHeld      = "held"
	ResultFailed    = "failed"
)

// Command kinds passed to [Observer.Ran].
const (
	KindCheck  = "check"
	KindReload = "reload"
)

// Status is a snapshot of the agent's templates.
type Status struct {
	// Ready is true when every template has rendered once or holds good
	// content.
	Ready     bool
	Templates []TemplateStatus
	// Queries is the number of watched queries and Waiting those a
	// template still waits for (no data yet, or a key that does not exist
	// yet), counted every half second until every template has rendered
	// once (then Waiting stays 0).
	Queries, Waiting int
	// Instances are the instances of each health service query with data,
	// by query key. Read-only: shared between snapshots.
	Instances map[string]InstanceCount
	// Changes are the instance changes of every write so far.
	Changes ChangeCounts
}

// TemplateStatus is the state of one template.
type TemplateStatus struct {
	Source, Dest string
	State        string    // "pending" | "ok" | "held" | "degraded" | "failed"
	Reason       string    // why held, degraded or failed
	Missing      []string  // queries still without data
	Held         []string  // queries holding the render (state "held" by on_empty or max_shrink)
	Datacenters  []string  // the datacenters other than the agent's own it reads
	ReadyIgnore  []string  // Template.ReadyIgnore
	LastRender   time.Time // last execution with complete output
	LastWrite    time.Time // last time Dest changed
	LastReload   time.Time // last successful command run for it
	LastChange   string    // what changed at the last write (queries, instances added, removed, modified)
}

// Observer receives the agent's events (metrics, systemd notifications).
// Calls come from the agent's goroutines and must not block.
type Observer interface {
	// Rendered reports one execution of a template: result is "written",
	// "unchanged", "held" or "failed".
	Rendered(source string, result string, d time.Duration)
	// Ran reports one run of a command: kind is "check" or "reload".
	Ran(kind, source, command string, err error, d time.Duration)
	// Tick is called by the agent loop itself at least once per second; it
	// stops when the loop is stuck.
	Tick()
}

// nopObserver is the Observer used when Options.Observer is nil.
type nopObserver struct{}

func (nopObserver) Rendered(string, string, time.Duration)           {}
func (nopObserver) Ran(string, string, string, error, time.Duration) {}
func (nopObserver) Tick()                                            {}

// Status returns a snapshot of the templates' states. It is safe to call
// from any goroutine.
func (a *Agent) Status() Status {
	s := a.status.Load()
	if s == nil {
		return Status{}
	}
	out := *s
	out.Templates = slices.Clone(s.Templates)
	for i := range out.Templates {
		out.Templates[i].Missing = slices.Clone(out.Templates[i].Missing)
		out.Templates[i].Held = slices.Clone(out.Templates[i].Held)
		out.Templates[i].Datacenters = slices.Clone(out.Templates[i].Datacenters)
		out.Templates[i].ReadyIgnore = slices.Clone(out.Templates[i].ReadyIgnore)
	}
	return out
}

// publish stores a fresh snapshot of the jobs' states for Status. Only the
// agent loop calls it.
func (a *Agent) publish() {
	p := &a.progress
	s := &Status{Ready: true, Templates: make([]TemplateStatus, len(a.jobs)), Queries: p.total,
		Waiting: p.waiting, Instances: p.snapshot(), Changes: p.changes}
	for i, j := range a.jobs {
		if !j.ready() {
			s.Ready = false
		}
		ts := j.status()
		s.Templates[i] = ts
	}
	a.status.Store(s)
}
