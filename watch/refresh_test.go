package watch_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/ctpl/ctpl/watch"
)

func TestRefreshReadsAfresh(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
		calls int // requests before the refresh
	}{
		{name: "a blocking request is cut short", steps: []step{{value: 1, index: 5}}, calls: 2},
		{name: "a backoff ends", steps: []step{{value: 1, index: 5}, {err: errors.New("403 ACL not found")}}, calls: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				src := newScript(tc.steps...)
				opts := fastOpts
				opts.Wait, opts.BackoffMin, opts.BackoffMax = time.Hour, time.Hour, time.Hour
				w := watch.New(t.Context(), src, opts)
				defer w.Close()
				if err := w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: "a"}); err != nil {
					t.Fatal(err)
				}
				waitCalls(t, src, tc.calls)
				synctest.Wait() // blocked in the request or the backoff
				before := time.Now()
				w.Refresh()
				waitCalls(t, src, 1)
				if d := time.Since(before); d != 0 {
					t.Errorf("the request after Refresh came %s later, want at once", d)
				}
				got := src.requestIndexes()
				if last := got[len(got)-1]; last != 0 {
					t.Errorf("request indexes %v: the one after Refresh is %d, want a plain read (0)", got, last)
				}
			})
		})
	}
}

func TestWarningInFreshness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := newScript(step{value: 1, index: 5, warning: "filtered to nothing"})
		w := watch.New(t.Context(), src, fastOpts)
		defer w.Close()
		spec := watch.Spec{Kind: watch.KindKVGet, Name: "a"}
		if err := w.Watch(spec); err != nil {
			t.Fatal(err)
		}
		<-w.Updates()
		synctest.Wait() // the next request blocks
		if got := w.Freshness()[spec.String()].Warning; got != "filtered to nothing" {
			t.Errorf("warning %q, want the answer's", got)
		}
	})
}

// scripts serves one script per query name.
type scripts map[string]*script

func (s scripts) Query(spec watch.Spec) (watch.Query, error) { return s[spec.Name].Query(spec) }

func TestRecoveryEndsOtherBackoffs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		down := errors.New("connection refused")
		b := newScript(step{err: down}, step{value: 2, index: 7})
		a := newScript(step{err: down}, step{value: 1, index: 5})
		opts := fastOpts
		// A maximum below the minimum makes every backoff exactly half the
		// minimum: 30 minutes.
		opts.BackoffMin, opts.BackoffMax = time.Hour, time.Millisecond
		w := watch.New(t.Context(), scripts{"a": a, "b": b}, opts)
		defer w.Close()
		start := time.Now()
		_ = w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: "b"}) // fails now, recovers at 30 min
		<-b.calls
		time.Sleep(20 * time.Minute)
		_ = w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: "a"}) // fails at 20 min, backs off until 50
		<-a.calls
		<-a.calls
		if got := time.Since(start); got != 30*time.Minute {
			t.Errorf("a retried at %v, want at b's recovery (30m0s), not at the end of its own backoff", got)
		}
	})
}

// healing fails every request until healAt, then answers.
type healing struct{ healAt time.Time }

func (h healing) Query(spec watch.Spec) (watch.Query, error) {
	return watch.QueryFunc(func(ctx context.Context, _ watch.FetchOptions) (watch.Result, error) {
		if time.Now().Before(h.healAt) {
			return watch.Result{}, errors.New("connection refused")
		}
		return watch.Result{Value: spec.Name, Index: 1}, nil
	}), nil
}

// recoverAll watches the KV queries names and waits until each has sent a
// value: the last must come within a second of healAt.
func recoverAll(t *testing.T, w *watch.Watcher, healAt time.Time, names ...string) {
	t.Helper()
	for _, name := range names {
		_ = w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: name})
	}
	for values := 0; values < len(names); {
		if u := <-w.Updates(); u.Err == nil {
			values++
		}
	}
	if late := time.Since(healAt); late > time.Second {
		t.Errorf("the last query recovered %v after the source healed, want within a second", late)
	}
}

func TestScoutNoticesRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outage := 10 * time.Minute
		src := healing{healAt: time.Now().Add(outage)}
		opts := fastOpts
		opts.BackoffMin, opts.BackoffMax = time.Second, time.Hour
		w := watch.New(t.Context(), src, opts)
		defer w.Close()
		// Every query's own backoff has grown to minutes by then; the scout
		// retries every second and its recovery wakes the others.
		recoverAll(t, w, src.healAt, "a", "b", "c")
	})
}

// refusing refuses every request of the query "bad" (the source said the
// query itself is wrong) and serves the others as healing does.
type refusing struct {
	healing
	bad *atomic.Int64 // requests of "bad"
}

func (r refusing) Query(spec watch.Spec) (watch.Query, error) {
	if spec.Name != "bad" {
		return r.healing.Query(spec)
	}
	return watch.QueryFunc(func(context.Context, watch.FetchOptions) (watch.Result, error) {
		r.bad.Add(1)
		return watch.Result{}, fmt.Errorf("filter: %w", watch.ErrRefused)
	}), nil
}

// TestRefusedQueryIsNoScout: a query the source refuses (a malformed filter
// expression, a prepared query that does not exist) fails whatever
// happens, so it backs off to the maximum and never takes the scout's role:
// held by it, the scout would retry every second for ever and the others
// would notice an outage's end only at their own backoff.
func TestRefusedQueryIsNoScout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		outage := 10 * time.Minute
		src := refusing{healing: healing{healAt: time.Now().Add(outage)}, bad: new(atomic.Int64)}
		opts := fastOpts
		opts.BackoffMin, opts.BackoffMax = time.Second, time.Hour
		w := watch.New(t.Context(), src, opts)
		defer w.Close()
		_ = w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: "bad"})
		synctest.Wait() // bad failed first
		recoverAll(t, w, src.healAt, "a", "b")
		if n := src.bad.Load(); n > 20 {
			t.Errorf("the refused query was sent %d times in %v, want its backoff to grow to the maximum", n, outage)
		}
	})
}
