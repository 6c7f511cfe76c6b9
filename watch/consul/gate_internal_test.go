package consul

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// waitQueued waits until n callers wait for a slot of g.
func waitQueued(t *testing.T, ctx context.Context, g *gate, n int) {
	t.Helper()
	for g.waiting() != n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d waiters queued, want %d", g.waiting(), n)
		case <-time.After(time.Millisecond):
		}
	}
}

// grantOrder queues the given waiters (true: urgent) one by one on a full
// gate of one slot, then frees the slot and returns the order in which
// they got it.
func grantOrder(t *testing.T, urgent []bool) []int {
	t.Helper()
	g := newGate(1)
	_, h, err := g.acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan int, len(urgent))
	for i, u := range urgent {
		go func() {
			_, h, err := g.acquireAs(ctx, u, nil)
			if err != nil {
				return
			}
			got <- i
			g.release(h)
		}()
		waitQueued(t, ctx, g, i+1)
	}
	g.release(h)
	var order []int
	for range urgent {
		select {
		case i := <-got:
			order = append(order, i)
		case <-ctx.Done():
			t.Fatalf("granted %v only", order)
		}
	}
	return order
}

func TestGateGrantsInOrder(t *testing.T) {
	tests := []struct {
		name   string
		urgent []bool
		want   []int
	}{
		{name: "plain FIFO", urgent: []bool{false, false, false, false}, want: []int{0, 1, 2, 3}},
		{name: "urgent FIFO", urgent: []bool{true, true, true}, want: []int{0, 1, 2}},
		{name: "urgent first", urgent: []bool{false, true, false, true}, want: []int{1, 3, 0, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := grantOrder(t, tc.urgent); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("order %v, want %v", got, tc.want)
			}
		})
	}
}

func TestGateAbortLeavesQueue(t *testing.T) {
	tests := []struct {
		name   string
		cancel bool // end the wait by the context instead of abort
		want   error
	}{
		{name: "abort", want: errAborted},
		{name: "context", cancel: true, want: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate(1)
			_, h, _ := g.acquire(t.Context())
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			wctx, wcancel := context.WithCancel(ctx)
			abort := make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				_, _, err := g.acquireAs(wctx, false, abort)
				errc <- err
			}()
			waitQueued(t, ctx, g, 1)
			if tc.cancel {
				wcancel()
			} else {
				close(abort)
			}
			if err := <-errc; !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			wcancel()
			if n := g.waiting(); n != 0 {
				t.Fatalf("%d waiters left queued", n)
			}
			g.release(h)
			if in, _ := g.stats(); in != 0 {
				t.Fatalf("%d slots in use after an aborted wait", in)
			}
			if _, h, err := g.acquireAs(ctx, false, nil); err != nil {
				t.Fatal(err)
			} else {
				g.release(h)
			}
		})
	}
}

// A waiter that gives up in the instant its slot is granted passes the
// slot on instead of leaking it.
func TestGateGrantRaceWithAbort(t *testing.T) {
	g := newGate(1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for range 200 {
		_, h, err := g.acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		abort := make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			_, h, err := g.acquireAs(ctx, true, abort)
			if err == nil {
				g.release(h)
			}
			errc <- err
		}()
		waitQueued(t, ctx, g, 1)
		go close(abort)
		g.release(h)
		if err := <-errc; err != nil && !errors.Is(err, errAborted) {
			t.Fatal(err)
		}
		if in, _ := g.stats(); in != 0 || g.waiting() != 0 {
			t.Fatalf("in use %d, waiting %d after the race", in, g.waiting())
		}
	}
}

func TestGateGrowGrantsWaiters(t *testing.T) {
	g := newGate(1)
	_, h, _ := g.acquire(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan *hold, 2)
	for i := range 2 {
		go func() {
			if _, h, err := g.acquire(ctx); err == nil {
				done <- h
			}
		}()
		waitQueued(t, ctx, g, i+1)
	}
	g.setLimit(3)
	for range 2 {
		select {
		case h := <-done:
			g.release(h)
		case <-ctx.Done():
			t.Fatal("a larger limit left waiters queued")
		}
	}
	g.release(h)
}

// Preempted waiters' holders: a shrink cancels the newest holder, and the
// freed capacity goes to nobody until the gate is below its new limit.
func TestGateShrinkKeepsWaitersQueued(t *testing.T) {
	g := newGate(2)
	c1, h1, _ := g.acquire(t.Context())
	c2, h2, _ := g.acquire(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan *hold, 1)
	go func() {
		if _, h, err := g.acquire(ctx); err == nil {
			got <- h
		}
	}()
	waitQueued(t, ctx, g, 1)
	g.setLimit(1)
	if c1.Err() != nil || c2.Err() == nil {
		t.Fatal("shrink must preempt the newest holder only")
	}
	if g.waiting() != 1 {
		t.Fatal("a shrink granted a slot beyond the new limit")
	}
	if !g.release(h2) {
		t.Fatal("the preempted hold must report it")
	}
	g.release(h1)
	select {
	case h := <-got:
		g.release(h)
	case <-ctx.Done():
		t.Fatal("the waiter never got the slot")
	}
}

// A long-poll slot freed while plain reads wait is lent to them.
func TestBudgetLendsFreedLongSlotToWaiters(t *testing.T) {
	b := newBudget(40) // 5 plain reads, 31 long polls (headroom 7)
	var longs []*hold
	for range 31 {
		_, h, err := b.long.acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		longs = append(longs, h)
	}
	var shorts []*hold
	for range 5 {
		_, h, _ := b.short.acquire(t.Context())
		shorts = append(shorts, h)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan *hold, 1)
	go func() {
		if _, h, err := b.short.acquire(ctx); err == nil {
			got <- h
		}
	}()
	waitQueued(t, ctx, b.short, 1)
	for _, h := range longs[:8] { // beyond the headroom of 7
		b.long.release(h)
	}
	var h *hold
	select {
	case h = <-got:
	case <-ctx.Done():
		t.Fatal("a plain read never borrowed the freed long-poll slot")
	}
	if h.owner != b.long {
		t.Fatal("the plain read did not get a long-poll slot")
	}
	b.short.release(h)
	for _, h := range append(longs[8:], shorts...) {
		b.short.release(h)
	}
	if in, _ := b.long.stats(); in != 0 {
		t.Fatalf("long-poll slots in use: %d", in)
	}
}
