package gate

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// waitQueued waits until n callers wait for a slot of g.
func waitQueued(t *testing.T, ctx context.Context, g *Gate, n int) {
	t.Helper()
	for g.Waiting() != n {
		select {
		case <-ctx.Done():
			t.Fatalf("%d waiters queued, want %d", g.Waiting(), n)
		case <-time.After(time.Millisecond):
		}
	}
}

// grantOrder queues the given waiters (true: urgent) one by one on a full
// gate of one slot, then frees the slot and returns the order in which
// they got it.
func grantOrder(t *testing.T, urgent []bool) []int {
	t.Helper()
	g := New(1)
	_, h, err := g.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan int, len(urgent))
	for i, u := range urgent {
		go func() {
			_, h, err := g.AcquireAs(ctx, u, nil)
			if err != nil {
				return
			}
			got <- i
			g.Release(h)
		}()
		waitQueued(t, ctx, g, i+1)
	}
	g.Release(h)
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
		{name: "abort", want: ErrAborted},
		{name: "context", cancel: true, want: context.Canceled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := New(1)
			_, h, _ := g.Acquire(t.Context())
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			wctx, wcancel := context.WithCancel(ctx)
			abort := make(chan struct{})
			errc := make(chan error, 1)
			go func() {
				_, _, err := g.AcquireAs(wctx, false, abort)
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
			if n := g.Waiting(); n != 0 {
				t.Fatalf("%d waiters left queued", n)
			}
			g.Release(h)
			if in, _ := g.Stats(); in != 0 {
				t.Fatalf("%d slots in use after an aborted wait", in)
			}
			if _, h, err := g.AcquireAs(ctx, false, nil); err != nil {
				t.Fatal(err)
			} else {
				g.Release(h)
			}
		})
	}
}

// A waiter that gives up in the instant its slot is granted passes the
// slot on instead of leaking it.
func TestGateGrantRaceWithAbort(t *testing.T) {
	g := New(1)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for range 200 {
		_, h, err := g.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		abort := make(chan struct{})
		errc := make(chan error, 1)
		go func() {
			_, h, err := g.AcquireAs(ctx, true, abort)
			if err == nil {
				g.Release(h)
			}
			errc <- err
		}()
		waitQueued(t, ctx, g, 1)
		go close(abort)
		g.Release(h)
		if err := <-errc; err != nil && !errors.Is(err, ErrAborted) {
			t.Fatal(err)
		}
		if in, _ := g.Stats(); in != 0 || g.Waiting() != 0 {
			t.Fatalf("in use %d, waiting %d after the race", in, g.Waiting())
		}
	}
}

func TestGateGrowGrantsWaiters(t *testing.T) {
	g := New(1)
	_, h, _ := g.Acquire(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan *Hold, 2)
	for i := range 2 {
		go func() {
			if _, h, err := g.Acquire(ctx); err == nil {
				done <- h
			}
		}()
		waitQueued(t, ctx, g, i+1)
	}
	g.SetLimit(3)
	for range 2 {
		select {
		case h := <-done:
			g.Release(h)
		case <-ctx.Done():
			t.Fatal("a larger limit left waiters queued")
		}
	}
	g.Release(h)
}

// Preempted waiters' holders: a shrink cancels the newest holder, and the
// freed capacity goes to nobody until the gate is below its new limit.
func TestGateShrinkKeepsWaitersQueued(t *testing.T) {
	g := New(2)
	c1, h1, _ := g.Acquire(t.Context())
	c2, h2, _ := g.Acquire(t.Context())
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan *Hold, 1)
	go func() {
		if _, h, err := g.Acquire(ctx); err == nil {
			got <- h
		}
	}()
	waitQueued(t, ctx, g, 1)
	g.SetLimit(1)
	if c1.Err() != nil || c2.Err() == nil {
		t.Fatal("shrink must preempt the newest holder only")
	}
	if g.Waiting() != 1 {
		t.Fatal("a shrink granted a slot beyond the new limit")
	}
	if !g.Release(h2) {
		t.Fatal("the preempted hold must report it")
	}
	g.Release(h1)
	select {
	case h := <-got:
		g.Release(h)
	case <-ctx.Done():
		t.Fatal("the waiter never got the slot")
	}
}

// A long-poll slot freed while plain reads wait is lent to them.
func TestBudgetLendsFreedLongSlotToWaiters(t *testing.T) {
	b := NewBudget(40) // 5 plain reads, 31 long polls (headroom 7)
	var longs []*Hold
	for range 31 {
		_, h, err := b.Long.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		longs = append(longs, h)
	}
	var shorts []*Hold
	for range 5 {
		_, h, _ := b.Short.Acquire(t.Context())
		shorts = append(shorts, h)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got := make(chan *Hold, 1)
	go func() {
		if _, h, err := b.Short.Acquire(ctx); err == nil {
			got <- h
		}
	}()
	waitQueued(t, ctx, b.Short, 1)
	for _, h := range longs[:8] { // beyond the headroom of 7
		b.Long.Release(h)
	}
	var h *Hold
	select {
	case h = <-got:
	case <-ctx.Done():
		t.Fatal("a plain read never borrowed the freed long-poll slot")
	}
	if h.owner != b.Long {
		t.Fatal("the plain read did not get a long-poll slot")
	}
	b.Short.Release(h)
	for _, h := range append(longs[8:], shorts...) {
		b.Short.Release(h)
	}
	if in, _ := b.Long.Stats(); in != 0 {
		t.Fatalf("long-poll slots in use: %d", in)
	}
}
