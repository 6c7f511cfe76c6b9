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
	b.short.lender, b.long.borrower = b.long, b.short
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
// newest holders by cancelling their contexts. Waiters queue in FIFO
// order, urgent ones before the rest, and a freed slot is handed to the
// first waiter directly: a release wakes one goroutine, not all of them.
type gate struct {
	mu      sync.Mutex
	limit   int
	inUse   int
	seq     uint64
	holders map[uint64]*hold
	urgent  queue // waiters that go first
	plain   queue // the other waiters
	// lender, when set, lends its free slots (beyond its headroom) when
	// this gate is full: plain reads use the long polls' budget while it
	// is not taken, as at start-up. borrower is the lender's way back: a
	// slot it frees is offered to the borrower's waiters.
	lender, borrower *gate
}

// hold is one acquired slot.
type hold struct {
	seq       uint64
	cancel    context.CancelFunc
	preempted bool  // set under the gate's lock
	owner     *gate // the gate the slot belongs to
}

// waiter is one caller queued for a slot. Once granted, ctx and h hold
// the slot and ready is closed.
type waiter struct {
	parent     context.Context
	ready      chan struct{}
	ctx        context.Context
	h          *hold
	prev, next *waiter
	q          *queue // the queue holding it; nil once out of it
}

// queue is a doubly linked FIFO of waiters: O(1) to add, pop and remove.
type queue struct {
	head, tail *waiter
	n          int
}

func (q *queue) push(w *waiter) {
	w.q, w.prev, w.next = q, q.tail, nil
	if q.tail != nil {
		q.tail.next = w
	} else {
		q.head = w
	}
	q.tail = w
	q.n++
}

func (q *queue) remove(w *waiter) {
	if w.prev != nil {
		w.prev.next = w.next
	} else {
		q.head = w.next
	}
	if w.next != nil {
		w.next.prev = w.prev
	} else {
		q.tail = w.prev
	}
	w.prev, w.next, w.q = nil, nil, nil
	q.n--
}

func newGate(limit int) *gate {
	return &gate{limit: limit, holders: make(map[uint64]*hold)}
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
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	g.mu.Lock()
	// Waiters exist only while the gate (and its lender) is full, so a
	// caller with nobody ahead of it takes a free slot at once.
	ahead := g.urgent.n
	if !urgent {
		ahead += g.plain.n
	}
	if ahead == 0 {
		if g.inUse < g.limit {
			c, h := g.take(ctx)
			g.mu.Unlock()
			return c, h, nil
		}
		if c, h, ok := g.borrow(ctx); ok {
			g.mu.Unlock()
			return c, h, nil
		}
	}
	w := &waiter{parent: ctx, ready: make(chan struct{})}
	if urgent {
		g.urgent.push(w)
	} else {
		g.plain.push(w)
	}
	g.mu.Unlock()
	var err error
	select {
	case <-w.ready:
		return w.ctx, w.h, nil
	case <-abort:
		err = errAborted
	case <-ctx.Done():
		err = ctx.Err()
	}
	g.mu.Lock()
	if w.q != nil {
		w.q.remove(w)
		g.mu.Unlock()
		return nil, nil, err
	}
	g.mu.Unlock()
	// Granted while giving up: pass the slot on.
	<-w.ready
	g.release(w.h)
	return nil, nil, err
}

// borrow takes a slot of the lender when it has more than its headroom
// free. The caller holds g.mu (lock order: borrower, then lender).
func (g *gate) borrow(ctx context.Context) (context.Context, *hold, bool) {
	if g.lender == nil {
		return nil, nil, false
	}
	return g.lender.tryAcquire(ctx, headroom(g.lender.getLimit()))
}

// tryAcquire takes a slot only when more than headroom slots are free and
// nobody waits for one.
func (g *gate) tryAcquire(ctx context.Context, headroom int) (context.Context, *hold, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inUse+headroom >= g.limit || g.urgent.n+g.plain.n > 0 {
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

// grant hands free slots to the first waiters, urgent ones first, and
// then lender's slots; g.mu is held.
func (g *gate) grant() {
	for {
		w := g.urgent.head
		if w == nil {
			w = g.plain.head
		}
		if w == nil {
			return
		}
		var (
			c  context.Context
			h  *hold
			ok = g.inUse < g.limit
		)
		if ok {
			c, h = g.take(w.parent)
		} else if c, h, ok = g.borrow(w.parent); !ok {
			return
		}
		w.q.remove(w)
		w.ctx, w.h = c, h
		close(w.ready)
	}
}

// release frees h's slot and reports whether it had been preempted.
func (g *gate) release(h *hold) bool {
	if h.owner != g {
		return h.owner.release(h)
	}
	g.mu.Lock()
	h.cancel()
	freed := false
	if _, ok := g.holders[h.seq]; ok {
		delete(g.holders, h.seq)
		g.inUse--
		freed = true
		g.grant()
	}
	preempted := h.preempted
	g.mu.Unlock()
	if freed {
		g.offer()
	}
	return preempted
}

// offer lets the borrower's waiters take a slot g just freed, when g's own
// waiters left it free. g.mu must not be held.
func (g *gate) offer() {
	if b := g.borrower; b != nil {
		b.mu.Lock()
		b.grant()
		b.mu.Unlock()
	}
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
	g.grant()
	g.mu.Unlock()
	g.offer()
}

// stats returns the slots in use and the limit.
func (g *gate) stats() (inUse, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inUse, g.limit
}

// waiting returns how many callers wait for a slot.
func (g *gate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.urgent.n + g.plain.n
}
