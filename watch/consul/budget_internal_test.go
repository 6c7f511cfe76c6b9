package consul

import (
	"context"
	"testing"
	"time"
)

func TestGatePreemptsNewestOnShrink(t *testing.T) {
	g := newGate(3)
	var ctxs []context.Context
	var holds []*hold
	for range 3 {
		c, h, err := g.acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctxs, holds = append(ctxs, c), append(holds, h)
	}
	if _, _, ok := g.tryAcquire(t.Context(), 0); ok {
		t.Fatal("tryAcquire succeeded on a full gate")
	}
	g.setLimit(1)
	for i, c := range ctxs {
		if cancelled := c.Err() != nil; cancelled != (i > 0) {
			t.Errorf("hold %d cancelled = %v, want %v", i, cancelled, i > 0)
		}
	}
	if !g.release(holds[2]) || g.release(holds[0]) {
		t.Error("release must report the preempted hold, and only it")
	}
	if in, limit := g.stats(); in != 0 || limit != 1 {
		t.Errorf("stats %d/%d, want 0/1", in, limit)
	}
}

func TestGateUrgentGoesFirst(t *testing.T) {
	g := newGate(1)
	_, h, _ := g.acquire(t.Context())
	order := make(chan string, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	go func() {
		_, h, err := g.acquireAs(ctx, false, nil)
		if err == nil {
			order <- "plain"
			g.release(h)
		}
	}()
	go func() {
		_, h, err := g.acquireAs(ctx, true, nil)
		if err == nil {
			order <- "urgent"
			g.release(h)
		}
	}()
	waitQueued(t, ctx, g, 2)
	g.release(h)
	if first := <-order; first != "urgent" {
		t.Errorf("%s went first, want urgent", first)
	}
	<-order
}

func TestTrackerMarksStaleReads(t *testing.T) {
	tr := newTracker()
	if st := tr.check("k", "web"); !st.named {
		t.Fatal("a query never read must be read")
	}
	tr.record("k", "web")
	if st := tr.check("k", "web"); st.named || st.swept {
		t.Fatalf("fresh read reported stale: %+v", st)
	}
	st := tr.check("k", "web")
	tr.bump("db")
	select {
	case <-st.nameCh:
		t.Fatal("a change of another service woke the follower")
	default:
	}
	tr.bump("web")
	<-st.nameCh
	if st := tr.check("k", "web"); !st.named || st.swept {
		t.Fatalf("after bump(web): %+v, want named", st)
	}
	tr.record("k", "web")
	tr.bumpAll()
	if st := tr.check("k", "web"); st.named || !st.swept {
		t.Fatalf("after bumpAll: %+v, want swept", st)
	}
}

func TestPlainReadsBorrowFreeLongPollSlots(t *testing.T) {
	b := newBudget(40) // 5 plain reads, 31 long polls (headroom 7)
	var holds []*hold
	for range 5 + 31 - 7 {
		_, h, err := b.short.acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		holds = append(holds, h)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := b.short.acquire(ctx); err == nil {
		t.Fatal("plain reads borrowed the long polls' headroom")
	}
	if in, _ := b.long.stats(); in != 31-7 {
		t.Errorf("long-poll slots lent: %d, want %d", in, 31-7)
	}
	for _, h := range holds {
		b.short.release(h)
	}
	if in, _ := b.long.stats(); in != 0 {
		t.Errorf("after release, long-poll slots in use: %d", in)
	}
}
