package gate

import (
	"context"
	"errors"
	"sync"
)

// Gate is a semaphore whose size can change; lowering it preempts the
// newest holders by cancelling their contexts. Waiters queue in FIFO
// order, urgent ones before the rest, and a freed slot is handed to the
// first waiter directly: a release wakes one goroutine, not all of them.
type Gate struct {
	mu      sync.Mutex
	limit   int
	inUse   int
	seq     uint64
	holders map[uint64]*Hold
	urgent  queue // waiters that go first
	plain   queue // the other waiters
	// lender, when set, lends its free slots (beyond its headroom) when
	// this gate is full: plain reads use the long polls' budget while it
	// is not taken, as at start-up. borrower is the lender's way back: a
	// slot it frees is offered to the borrower's waiters.
	lender, borrower *Gate
}

// Hold is one acquired slot, to be released with [Gate.Release].
type Hold struct {
	seq       uint64
	cancel    context.CancelFunc
	preempted bool  // set under the gate's lock
	owner     *Gate // the gate the slot belongs to
}

// waiter is one caller queued for a slot. Once granted, ctx and h hold
// the slot and ready is closed.
type waiter struct {
	parent     context.Context
	ready      chan struct{}
	ctx        context.Context
	h          *Hold
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

// New returns a gate of limit slots.
func New(limit int) *Gate {
	return &Gate{limit: limit, holders: make(map[uint64]*Hold)}
}

// Acquire waits for a slot. The returned context is cancelled when the
// slot is preempted; Release must be called with the hold.
func (g *Gate) Acquire(ctx context.Context) (context.Context, *Hold, error) {
	return g.AcquireAs(ctx, false, nil)
}

// ErrAborted is returned by AcquireAs when its abort channel closed.
var ErrAborted = errors.New("slot wait aborted")

// AcquireAs waits for a slot; an urgent caller goes before every waiting
// caller that is not. A close of abort (nil: never) ends the wait with
// ErrAborted.
func (g *Gate) AcquireAs(ctx context.Context, urgent bool, abort <-chan struct{}) (context.Context, *Hold, error) {
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
		err = ErrAborted
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
	g.Release(w.h)
	return nil, nil, err
}

// borrow takes a slot of the lender when it has more than its headroom
// free. The caller holds g.mu (lock order: borrower, then lender).
func (g *Gate) borrow(ctx context.Context) (context.Context, *Hold, bool) {
	if g.lender == nil {
		return nil, nil, false
	}
	return g.lender.TryAcquire(ctx)
}

// headroom is how many slots TryAcquire leaves free: of the long polls',
// those a followable query (or a borrowing plain read) leaves to the
// queries that can only wait for one.
func headroom(limit int) int { return min(8, limit/4) }

// TryAcquire takes a slot only when more than the gate's headroom (a
// quarter of its slots, at most 8) are free and nobody waits for one.
func (g *Gate) TryAcquire(ctx context.Context) (context.Context, *Hold, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.inUse+headroom(g.limit) >= g.limit || g.urgent.n+g.plain.n > 0 {
		return nil, nil, false
	}
	c, h := g.take(ctx)
	return c, h, true
}

func (g *Gate) take(ctx context.Context) (context.Context, *Hold) {
	c, cancel := context.WithCancel(ctx)
	g.seq++
	h := &Hold{seq: g.seq, cancel: cancel, owner: g}
	g.holders[h.seq] = h
	g.inUse++
	return c, h
}

// grant hands free slots to the first waiters, urgent ones first, and
// then lender's slots; g.mu is held.
func (g *Gate) grant() {
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
			h  *Hold
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

// Release frees h's slot and reports whether it had been preempted.
func (g *Gate) Release(h *Hold) bool {
	if h.owner != g {
		return h.owner.Release(h)
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
func (g *Gate) offer() {
	if b := g.borrower; b != nil {
		b.mu.Lock()
		b.grant()
		b.mu.Unlock()
	}
}

// Limit returns the gate's size.
func (g *Gate) Limit() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.limit
}

// SetLimit changes the size; holders beyond a lower one, newest first, are
// preempted: their contexts are cancelled and their slots freed at once.
func (g *Gate) SetLimit(n int) {
	g.mu.Lock()
	g.limit = max(n, 1)
	for g.inUse > g.limit {
		var newest *Hold
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

// Stats returns the slots in use and the limit.
func (g *Gate) Stats() (inUse, limit int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.inUse, g.limit
}

// Waiting returns how many callers wait for a slot.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.urgent.n + g.plain.n
}
