package renderer

import (
	"context"
	"maps"
	"sync"
	"time"
)

// DefaultMinReloadInterval spaces the runs of one reload command when
// Options.MinReloadInterval is 0.
const DefaultMinReloadInterval = time.Second

// version is one content the agent activated at a destination.
type version struct {
	gen      uint64 // increases with every activation at the destination
	content  []byte
	exists   bool // false when the activation removed the destination
	restored bool // the activation put back the last good content
}

// reloadResult is one finished run of a group's command.
type reloadResult struct {
	g       *group
	covered map[string]version // by destination: what was active when the run started
	res     CommandResult
	err     error
	at      time.Time
}

// group is the templates sharing one reload command and the worker that runs
// it. The loop activates content through the group (commit), which marks the
// command owed; the worker runs it when the group is settled (no render of
// its templates pending), at the leading edge and then at most once per
// interval, and sends the result back to the loop, which alone touches files.
type group struct {
	cmd      Command
	id       string
	interval time.Duration
	wake     chan struct{}
	jobs     []*job // loop only

	// Loop only: consecutive failed runs, the last error logged, and when to
	// run again after a failure with nothing to roll back.
	failures int
	lastErr  string
	retryAt  time.Time

	mu      sync.Mutex
	timeout time.Duration
	owed    bool // content activated since the last run started
	settled bool
	retired bool // no template uses the command any more
	live    map[string]version
	gen     uint64
}

func newGroup(cmd Command, interval time.Duration) *group {
	if interval == 0 {
		interval = DefaultMinReloadInterval
	}
	return &group{
		cmd: cmd, id: cmd.String(), interval: max(interval, 0),
		wake: make(chan struct{}, 1), live: map[string]version{},
	}
}

func (g *group) poke() {
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// activate runs commit (which puts content at dest) and records the new
// version as owing a reload. Holding the lock across commit guarantees that a
// run starting afterwards covers the new content.
func (g *group) activate(dest string, content []byte, exists, restored bool, commit func() (bool, error)) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed, err := commit()
	if !changed {
		return changed, err
	}
	g.gen++
	g.live[dest] = version{gen: g.gen, content: content, exists: exists, restored: restored}
	g.owed = true
	g.poke()
	return changed, err
}

// markOwed makes the command owed without a new activation (a reload owed by
// an earlier run of ctpl).
func (g *group) markOwed() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.owed = true
	g.poke()
}

// setSettled tells the worker whether every template of the group has
// settled.
func (g *group) setSettled(settled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if settled != g.settled {
		g.settled = settled
		g.poke()
	}
}

// isOwed reports whether a run is owed.
func (g *group) isOwed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.owed
}

// liveGen returns the generation active at dest.
func (g *group) liveGen(dest string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.live[dest].gen
}

func (g *group) retire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retired, g.settled = true, true // nothing renders for it any more
	g.poke()
}

// take starts a run if one is due: it clears owed and returns what the run
// covers.
func (g *group) take() (covered map[string]version, timeout time.Duration, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.owed || !g.settled {
		return nil, 0, false
	}
	g.owed = false
	return maps.Clone(g.live), g.timeout, true
}

// done reports whether the worker may stop.
func (g *group) done() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.retired && !g.owed
}

// run is the worker. It returns when ctx ends or the group is retired with
// nothing owed.
func (g *group) run(ctx context.Context, results chan<- reloadResult) {
	var last time.Time
	timer := time.NewTimer(0)
	<-timer.C
	for ctx.Err() == nil && !g.done() {
		if wait := time.Until(last.Add(g.interval)); !last.IsZero() && wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
		}
		covered, timeout, ok := g.take()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-g.wake:
			}
			continue
		}
		last = time.Now()
		r := g.exec(ctx, covered, timeout)
		select {
		case results <- r:
		case <-ctx.Done():
			return
		}
	}
}

// exec runs the command once for what covered holds.
func (g *group) exec(ctx context.Context, covered map[string]version, timeout time.Duration) reloadResult {
	res, err := g.cmd.Run(ctx, timeout, nil)
	return reloadResult{g: g, covered: covered, res: res, err: err, at: time.Now()}
}

// runNow runs the command at once if it is owed (once mode).
func (g *group) runNow(ctx context.Context) (reloadResult, bool) {
	g.setSettled(true)
	covered, timeout, ok := g.take()
	if !ok {
		return reloadResult{}, false
	}
	return g.exec(ctx, covered, timeout), true
}
