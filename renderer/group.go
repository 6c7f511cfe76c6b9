package renderer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
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
	renders []uint64           // the writes the run covers (0: a restore)
	gen     uint64             // the group's generation when the run started
	// superseded is set when verify failed after newer content was
	// activated: the target may rightly not run what the run covered, and
	// the run owed for the newer content verifies again.
	superseded bool
	verified   int // verify commands that passed
	res        CommandResult
	err        error
	at         time.Time
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
	renders []uint64 // the writes activated since the last run started
	verify  []verifier
}

// verifier is one distinct Template.Verify of a group.
type verifier struct {
	cmd     Command
	timeout time.Duration
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
func (g *group) activate(dest string, content []byte, exists, restored bool, render uint64, commit func() (bool, error)) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed, err := commit()
	if !changed {
		return changed, err
	}
	g.renders = append(g.renders, render)
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
func (g *group) take(flushing bool) (r reloadResult, timeout time.Duration, ok bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.owed || !g.settled && !flushing {
		return r, 0, false
	}
	g.owed = false
	r = reloadResult{g: g, covered: maps.Clone(g.live), renders: g.renders, gen: g.gen}
	g.renders = nil
	return r, g.timeout, true
}

// done reports whether the worker may stop.
func (g *group) done() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.retired && !g.owed
}

// run is the worker. It returns when ctx ends, or the group is retired with
// nothing owed, or flush is closed and nothing is owed: from then on it runs
// what is owed at once, settled or not (the agent is stopping: content
// already written must not lose its reload).
func (g *group) run(ctx context.Context, flush <-chan struct{}, results chan<- reloadResult) {
	var last time.Time
	timer := time.NewTimer(0)
	<-timer.C
	for ctx.Err() == nil && !g.done() {
		flushing := closed(flush)
		if wait := time.Until(last.Add(g.interval)); !flushing && !last.IsZero() && wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				timer.Stop()
				return
			case <-flush:
				timer.Stop()
			case <-timer.C:
			}
			continue
		}
		r, timeout, ok := g.take(flushing)
		if !ok {
			if flushing {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-flush:
			case <-g.wake:
			}
			continue
		}
		last = time.Now()
		g.exec(ctx, &r, timeout)
		select {
		case results <- r:
		case <-ctx.Done():
			return
		}
	}
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// exec runs the command once for what r covers, then each verify command
// while none has failed.
func (g *group) exec(ctx context.Context, r *reloadResult, timeout time.Duration) {
	r.res, r.err = g.cmd.Run(ctx, timeout, nil)
	for _, v := range g.verifiers() {
		if r.err != nil {
			break
		}
		res, err := v.cmd.Run(ctx, v.timeout, nil)
		r.res.Duration += res.Duration
		if err == nil {
			r.verified++
		} else {
			r.err = fmt.Errorf("%w: %w", ErrVerify, err)
			r.res.Output = append(r.res.Output, res.Output...)
			g.mu.Lock()
			r.superseded = g.gen != r.gen
			g.mu.Unlock()
		}
	}
	r.at = time.Now()
}

// ErrVerify is wrapped by the error of a reload whose command succeeded but
// whose Template.Verify failed.
var ErrVerify = errors.New("verify failed")

// addVerify adds cmd to the group's verify commands unless it is zero or
// already there (the longest timeout wins). The caller holds g.mu.
func (g *group) addVerify(cmd Command, timeout time.Duration) {
	if cmd.IsZero() {
		return
	}
	for i, v := range g.verify {
		if v.cmd.String() == cmd.String() {
			g.verify[i].timeout = max(v.timeout, timeout)
			return
		}
	}
	g.verify = append(g.verify, verifier{cmd: cmd, timeout: timeout})
}

func (g *group) verifiers() []verifier {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.verify)
}

// runNow runs the command at once if it is owed (once mode).
func (g *group) runNow(ctx context.Context) (reloadResult, bool) {
	g.setSettled(true)
	r, timeout, ok := g.take(false)
	if !ok {
		return reloadResult{}, false
	}
	g.exec(ctx, &r, timeout)
	return r, true
}
