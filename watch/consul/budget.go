package consul

import (
	"context"
	"errors"
	"sync"
)

// h2Streams is the most requests in flight per HTTP/2 connection: the 100
// concurrent streams Go's HTTP/2 client assumes before the server's settings
// arrive (Consul's server allows 250).
const h2Streams = 100

// detectorConns is what the change detectors hold: one long poll each.
const detectorConns = 4

// budget splits the requests the client may have in flight between long
// polls and plain reads. The change detectors hold detectorConns more.
type budget struct {
	long  *gate // blocking queries
	short *gate // plain reads: first reads, re-reads of followers, probes
}

// newBudget splits total in-flight requests.
func newBudget(total int) budget {
	short, long := split(total)
	b := budget{long: newGate(long), short: newGate(short)}
	b.short.lender = b.long
	return b
}

// split divides total between plain reads and long polls, keeping at least
// one of each.
func split(total int) (short, long int) {
	short = max(1, min(16, total/8))
	long = max(1, total-short-detectorConns)
	return short, long
}

// shrink lowers the budget to total, preempting long polls beyond it.
func (b budget) shrink(total int) {
	short, long := split(total)
	b.short.setLimit(min(short, b.short.getLimit()))
	b.long.setLimit(min(long, b.long.getLimit()))
}

// gate is a semaphore whose size can change; lowering it preempts the
// newest holders by cancelling their contexts.
type gate struct {
	mu      sync.Mutex
	limit   int
	inUse   int
	urgent  int // urgent acquirers waiting: others wait behind them
	seq     uint64
	wake    chan struct{} // closed when a slot frees or the limit grows
	holders map[uint64]*hold
	// lender, when set, lends its free slots (beyond its headroom) when
	// this gate is full: plain reads use the long polls' budget while it
	// is not taken, as at start-up.
	lender *gate
}

// hold is one acquired slot.
type hold struct {
	seq       uint64
	cancel    context.CancelFunc
	preempted bool  // set under the gate's lock
	owner     *gate // the gate the slot belongs to
}

func newGate(limit int) *gate {
	return &gate{limit: limit, wake: make(chan struct{}), holders: make(map[uint64]*hold)}
}

// acquire waits for a slot. The returned context is cancelled when the slot
// is preempted; release must be called with the hold.
func (g *gate) acquire(ctx context.Context) (context.Context, *hold, error) {
	return g.acquireAs(ctx, false, nil)
}

// errAborted is returned by acquireAs when its abort channel closed.
var errAborted = errors.New("slot wait aborted")

// acquireAs waits for a slot; an urgent caller goes before every waiting
// caller that is not. A close of abort (nil: never) ends the wait with
// errAborted.
func (g *gate) acquireAs(ctx context.Context, urgent bool, abort <-chan struct{}) (context.Context, *hold, error) {
	g.mu.Lock()
	if urgent {
		g.urgent++
		defer func() {
			g.mu.Lock()
			g.urgent--
			g.signal()
			g.mu.Unlock()
		}()
	}
	for {
		if g.inUse < g.limit && (urgent || g.urgent == 0) {
			c, h := g.take(ctx)
			g.mu.Unlock()
			return c, h, nil
		}
		if g.lender != nil && (urgent || g.urgent == 0) {
			if c, h, ok := g.lender.tryAcquire(ctx, headroom(g.lender.getLimit())); ok {
				g.mu.Unlock()
				return c, h, nil
			}
		}
		wake := g.wake
		g.mu.Unlock()
		select {
		case <-wake:
		case <-abort:
			return nil, nil, errAborted
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		g.mu.Lock()
	}
}

// tryAcquire takes a slot only when more than headroom slots are free.
func (g *gate) tryAcquire(ctx context.Context, headroom int) (context.Context, *hold, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inUse+headroom >= g.limit {
		return nil, nil, false
	}
	c, h := g.take(ctx)
	return c, h, true
}

func (g *gate) take(ctx context.Context) (context.Context, *hold) {
	c, cancel := context.WithCancel(ctx)
	g.seq++
	h := &hold{seq: g.seq, cancel: cancel, owner: g}
	g.holders[h.seq] = h
	g.inUse++
	return c, h
}

// release frees h's slot and reports whether it had been preempted.
func (g *gate) release(h *hold) bool {
	if h.owner != g {
		return h.owner.release(h)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	h.cancel()
	if _, ok := g.holders[h.seq]; ok {
		delete(g.holders, h.seq)
		g.inUse--
		g.signal()
	}
	return h.preempted
}

func (g *gate) getLimit() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// setLimit changes the size; holders beyond a lower one, newest first, are
// preempted: their contexts are cancelled and their slots freed at once.
func (g *gate) setLimit(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.limit = max(n, 1)
	for g.inUse > g.limit {
		var newest *hold
		for _, h := range g.holders {
			if newest == nil || h.seq > newest.seq {
				newest = h
			}
		}
		newest.preempted = true
		newest.cancel()
		delete(g.holders, newest.seq)
		g.inUse--
	}
	g.signal()
}

func (g *gate) signal() {
	close(g.wake)
	g.wake = make(chan struct{})
}

// stats returns the slots in use and the limit.
func (g *gate) stats() (inUse, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inUse, g.limit
}
