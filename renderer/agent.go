package renderer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// Template is one template to keep rendered: where it comes from, where it
// goes and what to run when its output changes.
type Template struct {
	// Source names the template in logs (its file path, or "inline").
	Source string
	// Tmpl is the parsed template.
	Tmpl *template.Template
	// Dest is the destination file.
	Dest string
	// File says how Dest is written.
	File FileOptions
	// Command runs after Dest changed; zero means none.
	Command Command
	// CommandTimeout bounds Command (0: 30s).
	CommandTimeout time.Duration
	// Wait delays renders until the data has been quiet for Wait.Min, but no
	// longer than Wait.Max after the first change. The first render is never
	// delayed.
	Wait Wait
	// Check runs against the staged output before it replaces Dest; zero
	// means none. A list-form argument "{{.Staged}}" becomes the staged
	// file's path, which is also in the environment as CTPL_STAGED. When it
	// fails Dest keeps its content until the data changes again.
	Check Command
	// CheckTimeout bounds Check (0: 30s).
	CheckTimeout time.Duration
	// OnEmpty says what to do when a counted query that had entries returns
	// none (a health query's instances, a catalog listing's services or
	// nodes, a KV list's keys with HoldKVLists; a catalog service listing
	// holding only Consul's own service counts as empty), or is no longer
	// used because its entry left a listing: OnEmptyHold (the default, "")
	// keeps the last good output, OnEmptyAllow renders anyway.
	OnEmpty string
	// MaxShrink, when in (0, 1), holds a render in which a counted query
	// lost more than this share of its entries since the last accepted
	// render.
	MaxShrink float64
	// Verify runs after a successful run of Command and proves that the
	// target runs the new content (e.g. fetches a generation marker); zero
	// means none. When it fails the reload counts as failed: the last good
	// content is restored, the command runs again and the template is
	// marked degraded. Templates sharing a command run each distinct
	// Verify once per reload.
	Verify Command
	// VerifyTimeout bounds Verify (0: 30s).
	VerifyTimeout time.Duration
	// LogDiff logs a unified diff of each write (at most MaxDiffBytes).
	LogDiff bool
	// HoldKVLists makes OnEmpty and MaxShrink count the keys of KV lists
	// (ls, tree) too.
	HoldKVLists bool
	// ReadyIgnore lists datacenters ("@dc2") whose stale data must not make
	// the agent unready on this template's account; the agent only passes it
	// on in TemplateStatus.
	ReadyIgnore []string
}

// Values of Template.OnEmpty.
const (
	OnEmptyHold  = "hold"
	OnEmptyAllow = "allow"
)

// Wait is a quiescence window.
type Wait struct {
	Min, Max time.Duration
}

// Watcher is what the agent needs of a *watch.Watcher.
type Watcher interface {
	Sync(specs []watch.Spec) (forgotten []string, err error)
	Updates() <-chan watch.Update
	// Current reports whether an update comes from the current watch of
	// its query; one queued before its query was forgotten does not.
	Current(u watch.Update) bool
}

// Options tune an [Agent].
type Options struct {
	// Once renders every template once, runs the commands and returns.
	Once bool
	// Dry writes what would be rendered to DryOut instead of the files and
	// runs no command.
	Dry    bool
	DryOut io.Writer
	// Logger receives the agent's log lines (default slog.Default()).
	Logger *slog.Logger
	// Observer receives the agent's events (nil: none).
	Observer Observer
	// MinReloadInterval spaces the runs of each reload command: the first
	// runs at once, later ones at most once per interval, always after the
	// last write they cover (0: DefaultMinReloadInterval; < 0: no spacing).
	MinReloadInterval time.Duration
	// StateDir keeps the reloads owed across restarts ("": not kept). It
	// is created (mode 0700) when missing.
	StateDir string
	// ProgressInterval spaces the start-up progress lines ("waiting for N
	// of M queries") until every template has rendered (0: 5s).
	ProgressInterval time.Duration
	// StaleAfter is the data age (the time a datacenter's queries have
	// failed) past which a render using that data is logged, once per
	// outage (0: DefaultStaleAfter).
	StaleAfter time.Duration
}

// Agent is the loop that renders templates as their data changes.
type Agent struct {
	opts    Options
	log     *slog.Logger
	watcher Watcher
	store   *watch.Store
	jobs    []*job
	watched map[string]watch.Spec
	groups  map[string]*group
	results chan reloadResult
	checks  chan *pendingWrite
	replace chan []Template
	obs     Observer
	status  atomic.Pointer[Status]
	owed    *owedState
	locks   dirLocks // the destination directories held
	out     outages  // the datacenters whose queries fail

	countsChanged bool // a job's instance counts changed since saveCounts
	usedChanged   bool // a job's used queries changed since syncWatches

	renders  uint64   // the last render number given to a write
	progress progress // start-up progress and instance counts (progress.go)

	// Set while Run runs: its context, the workers' context and wait group,
	// and flush, closed when the agent stops (see drain).
	ctx     context.Context
	workCtx context.Context
	workers sync.WaitGroup
	flush   chan struct{}
}

// tickInterval is how often the loop calls Observer.Tick.
const tickInterval = 500 * time.Millisecond

// ErrIncomplete is returned in once mode when ctx ends before every template
// had all its data.
var ErrIncomplete = errors.New("templates incomplete")

// New returns an agent for templates whose data comes from w.
func New(templates []Template, w Watcher, opts Options) *Agent {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	a := &Agent{
		opts:    opts,
		log:     opts.Logger,
		watcher: w,
		store:   watch.NewStore(),
		watched: map[string]watch.Spec{},
		replace: make(chan []Template),
		results: make(chan reloadResult),
		checks:  make(chan *pendingWrite),
		groups:  map[string]*group{},
		obs:     opts.Observer,
		owed:    newOwedState(opts.StateDir, opts.Logger),
		ctx:     context.Background(),
	}
	a.setJobs(templates)
	a.publish()
	return a
}

// Replace swaps the agent's templates for templates (after a config reload),
// keeping the data already received. It returns when the loop has taken them
// or ctx ends.
func (a *Agent) Replace(ctx context.Context, templates []Template) error {
	select {
	case a.replace <- templates:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Run renders until ctx ends; in once mode until every template has been
// rendered once and its commands have run.
func (a *Agent) Run(ctx context.Context) error {
	a.ctx = ctx
	if err := a.lockDirs(); err != nil {
		a.locks.release()
		return err
	}
	defer a.locks.release()
	if a.opts.StateDir != "" && !a.opts.Dry {
		if err := PrepareStateDir(a.opts.StateDir); err != nil {
			a.log.Error("cannot create the state directory; owed reloads are not kept", "error", err)
		}
	}
	a.loadOwed()
	a.loadCounts()
	if a.opts.Once {
		return a.runOnce(ctx)
	}
	workCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	a.workCtx, a.flush = workCtx, make(chan struct{})
	for _, g := range a.groups {
		a.startWorker(g)
	}
	defer func() { stopWorkers(); a.workers.Wait(); a.saveCounts() }()

	timer := time.NewTimer(0)
	defer timer.Stop()
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	for {
		a.renderDue(time.Now())
		a.publish()
		resetTimer(timer, a.nextDue())
		select {
		case <-ctx.Done():
			a.drain()
			return nil
		case u := <-a.watcher.Updates():
			a.apply(u)
		case ts := <-a.replace:
			a.setJobs(ts)
		case r := <-a.results:
			a.reloaded(r)
		case p := <-a.checks:
			a.checkDone(p)
		case <-timer.C:
		case <-tick.C:
			a.obs.Tick()
			a.saveCounts()
			a.progressTick(time.Now())
		}
	}
}

// drain runs, before the agent stops, the reloads owed for content already
// written: each worker runs its command at once (bounded by the command's
// timeout, with its verify) and ends. A reload that fails stays recorded in
// Options.StateDir for the next start. Checks still running are cancelled
// (their content was not written). The last Status includes the results.
func (a *Agent) drain() {
	owed := 0
	for _, g := range a.groups {
		if g.isOwed() {
			owed++
		}
	}
	if owed > 0 {
		a.log.Info("stopping: running the reloads owed for content already written", "commands", owed)
	}
	close(a.flush)
	done := make(chan struct{})
	go func() { a.workers.Wait(); close(done) }()
	for {
		select {
		case r := <-a.results:
			a.reloaded(r)
		case p := <-a.checks:
			p.j.checking = false
			p.st.Discard()
		case <-done:
			a.publish() // the last status says what the stop did
			return
		}
	}
}

// PrepareStateDir creates dir (mode 0700) and its parents when missing.
func PrepareStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("state dir: %w", err)
	}
	return nil
}

// runOnce renders until every template is complete, then runs the commands.
func (a *Agent) runOnce(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	tick := time.NewTicker(tickInterval)
	defer tick.Stop()
	for {
		a.renderDue(time.Now())
		a.publish()
		if err := a.failed(); err != nil {
			return err
		}
		if a.complete() {
			return a.reloadAll(ctx)
		}
		resetTimer(timer, a.nextDue())
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s", ErrIncomplete, a.missingReport())
		case u := <-a.watcher.Updates():
			a.apply(u)
		case <-timer.C:
		case <-tick.C:
			a.progressTick(time.Now())
		}
	}
}

// apply stores u and every update already queued behind it, so a burst of
// changes costs one render, and marks the templates that used them.
func (a *Agent) apply(u watch.Update) {
	now := time.Now()
	for {
		switch {
		case !a.watcher.Current(u): // queued before its query was forgotten
		case u.Err != nil:
			a.store.Apply(u)
			a.queryFailed(u)
		default:
			old, had := a.store.Get(u.Key)
			if !had {
				old = absent{}
			}
			if !a.store.Apply(u) {
				break
			}
			a.out.answered(a.log, u.Key, u.At, false)
			a.out.reread(u.Key, a.watched[u.Key].DC, u, a.watched)
			a.progress.changed(u.Key, a.watched[u.Key], u.Value)
			for _, j := range a.jobs {
				if j.touch(u.Key, now) {
					j.changes.note(u.Key, old)
				}
			}
		}
		select {
		case u = <-a.watcher.Updates():
		default:
			return
		}
	}
}

func (a *Agent) complete() bool {
	for _, j := range a.jobs {
		if !j.rendered {
			return false
		}
	}
	return true
}

func (a *Agent) failed() error {
	var errs []error
	for _, j := range a.jobs {
		if j.err != nil {
			errs = append(errs, j.err)
		}
	}
	return errors.Join(errs...)
}

// missingReport names each template still waiting and the queries it waits
// for.
func (a *Agent) missingReport() string {
	var b strings.Builder
	for _, j := range a.jobs {
		if j.rendered {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "%s waits for %s", j.t.Source, strings.Join(j.missingKeys, ", "))
	}
	return b.String()
}

func resetTimer(t *time.Timer, at time.Time) {
	t.Stop()
	if at.IsZero() {
		return
	}
	t.Reset(max(time.Until(at), 0))
}
