package gate

import (
	"context"
	"testing"
	"time"
)

func TestGatePreemptsNewestOnShrink(t *testing.T) {
	g := New(3)
	var ctxs []context.Context
	var holds []*Hold
	for range 3 {
		c, h, err := g.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		ctxs, holds = append(ctxs, c), append(holds, h)
	}
	if _, _, ok := g.TryAcquire(t.Context()); ok {
		t.Fatal("tryAcquire succeeded on a full gate")
	}
	g.SetLimit(1)
	for i, c := range ctxs {
		if cancelled := c.Err() != nil; cancelled != (i > 0) {
			t.Errorf("hold %d cancelled = %v, want %v", i, cancelled, i > 0)
		}
	}
	if !g.Release(holds[2]) || g.Release(holds[0]) {
		t.Error("release must report the preempted hold, and only it")
	}
	if in, limit := g.Stats(); in != 0 || limit != 1 {
		t.Errorf("stats %d/%d, want 0/1", in, limit)
	}
}

func TestGateUrgentGoesFirst(t *testing.T) {
	g := New(1)
	_, h, _ := g.Acquire(t.Context())
	order := make(chan string, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	go func() {
		_, h, err := g.AcquireAs(ctx, false, nil)
		if err == nil {
			order <- "plain"
			g.Release(h)
		}
	}()
	go func() {
		_, h, err := g.AcquireAs(ctx, true, nil)
		if err == nil {
			order <- "urgent"
			g.Release(h)
		}
	}()
	waitQueued(t, ctx, g, 2)
	g.Release(h)
	if first := <-order; first != "urgent" {
		t.Errorf("%s went first, want urgent", first)
	}
	<-order
}

func TestPlainReadsBorrowFreeLongPollSlots(t *testing.T) {
	b := NewBudget(40) // 5 plain reads, 31 long polls (headroom 7)
	var holds []*Hold
	for range 5 + 31 - 7 {
		_, h, err := b.Short.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		holds = append(holds, h)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, _, err := b.Short.Acquire(ctx); err == nil {
		t.Fatal("plain reads borrowed the long polls' headroom")
	}
	if in, _ := b.Long.Stats(); in != 31-7 {
		t.Errorf("long-poll slots lent: %d, want %d", in, 31-7)
	}
	for _, h := range holds {
		b.Short.Release(h)
	}
	if in, _ := b.Long.Stats(); in != 0 {
		t.Errorf("after release, long-poll slots in use: %d", in)
	}
}
