package watch_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// step is one scripted answer of a fake query.
type step struct {
	value   any
	index   uint64
	err     error
	warning string
	block   bool // wait for the context instead of answering
}

// script is a Source whose one query answers from a list of steps, then
// blocks; it records the index of every request.
type script struct {
	mu      sync.Mutex
	steps   []step
	indexes []uint64
	calls   chan uint64
}

func newScript(steps ...step) *script {
	return &script{steps: steps, calls: make(chan uint64, 100)}
}

func (s *script) Query(watch.Spec) (watch.Query, error) { return watch.QueryFunc(s.fetch), nil }

func (s *script) fetch(ctx context.Context, opts watch.FetchOptions) (watch.Result, error) {
	s.mu.Lock()
	s.indexes = append(s.indexes, opts.Index)
	var st step
	if len(s.steps) == 0 {
		st.block = true
	} else {
		st, s.steps = s.steps[0], s.steps[1:]
	}
	s.mu.Unlock()
	s.calls <- opts.Index
	if opts.Timeout > 0 { // as a source must
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	if st.block {
		<-ctx.Done()
		return watch.Result{}, ctx.Err()
	}
	return watch.Result{Value: st.value, Index: st.index, Warning: st.warning}, st.err
}

func (s *script) requestIndexes() []uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]uint64(nil), s.indexes...)
}

var fastOpts = watch.Options{MinInterval: time.Microsecond, BackoffMin: time.Millisecond, BackoffMax: 2 * time.Millisecond}

// collect reads updates until want have arrived or the deadline passes.
func collect(t *testing.T, w *watch.Watcher, want int) []watch.Update {
	t.Helper()
	var got []watch.Update
	deadline := time.After(5 * time.Second)
	for len(got) < want {
		select {
		case u := <-w.Updates():
			got = append(got, u)
		case <-deadline:
			t.Fatalf("got %d updates, want %d: %+v", len(got), want, got)
		}
	}
	return got
}

// waitCalls waits until the query has been asked n times.
func waitCalls(t *testing.T, s *script, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for range n {
		select {
		case <-s.calls:
		case <-deadline:
			t.Fatalf("query asked fewer than %d times; indexes %v", n, s.requestIndexes())
		}
	}
}

// noUpdate asserts that nothing is pending once the query is blocked again.
func noUpdate(t *testing.T, w *watch.Watcher) {
	t.Helper()
	select {
	case u := <-w.Updates():
		t.Fatalf("unexpected update %+v", u)
	default:
	}
}

func TestWatcherRules(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name        string
		steps       []step
		calls       int // requests made before the script runs out and blocks
		wantValues  []any
		wantErrs    int
		wantIndexes []uint64 // the index sent with each request
	}{
		{
			name:        "same index is no change",
			steps:       []step{{value: "a", index: 5}, {value: "a", index: 5}},
			calls:       3,
			wantValues:  []any{"a"},
			wantIndexes: []uint64{0, 5, 5},
		},
		{
			name:        "unchanged data under a new index sends nothing",
			steps:       []step{{value: "a", index: 5}, {value: "a", index: 9}},
			calls:       3,
			wantValues:  []any{"a"},
			wantIndexes: []uint64{0, 5, 9},
		},
		{
			name:        "changed data is sent",
			steps:       []step{{value: "a", index: 5}, {value: "b", index: 6}},
			calls:       3,
			wantValues:  []any{"a", "b"},
			wantIndexes: []uint64{0, 5, 6},
		},
		{
			name:        "an index going backwards resets to 0",
			steps:       []step{{value: "a", index: 50}, {value: "a", index: 10}, {value: "b", index: 11}},
			calls:       4,
			wantValues:  []any{"a", "b"},
			wantIndexes: []uint64{0, 50, 0, 11},
		},
		{
			name:        "index 0 from the server is treated as 1",
			steps:       []step{{value: "a", index: 0}},
			calls:       2,
			wantValues:  []any{"a"},
			wantIndexes: []uint64{0, 1},
		},
		{
			name:        "errors are retried and reported once",
			steps:       []step{{err: boom}, {err: boom}, {err: boom}, {value: "a", index: 3}},
			calls:       5,
			wantValues:  []any{"a"},
			wantErrs:    1,
			wantIndexes: []uint64{0, 0, 0, 0, 3},
		},
		{
			name:        "recovery reads afresh and resends unchanged data to clear the error",
			steps:       []step{{value: "a", index: 3}, {err: boom}, {value: "a", index: 3}},
			calls:       4,
			wantValues:  []any{"a", "a"},
			wantErrs:    1,
			wantIndexes: []uint64{0, 3, 0, 3},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := newScript(tc.steps...)
			w := watch.New(t.Context(), src, fastOpts)
			defer w.Close()
			if err := w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: "k"}); err != nil {
				t.Fatal(err)
			}
			got := collect(t, w, len(tc.wantValues)+tc.wantErrs)
			waitCalls(t, src, tc.calls)
			noUpdate(t, w)
			var values []any
			errs := 0
			for _, u := range got {
				if u.Err != nil {
					errs++
					continue
				}
				values = append(values, u.Value)
			}
			if !equalSlices(values, tc.wantValues) || errs != tc.wantErrs {
				t.Errorf("values %v errs %d, want %v errs %d", values, errs, tc.wantValues, tc.wantErrs)
			}
			if got := src.requestIndexes(); !equalSlices(got, tc.wantIndexes) {
				t.Errorf("request indexes %v, want %v", got, tc.wantIndexes)
			}
		})
	}
}

func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWatcherSharesIdenticalQueries(t *testing.T) {
	src := newScript(step{value: "a", index: 1})
	w := watch.New(t.Context(), src, fastOpts)
	defer w.Close()
	a, _ := watch.ParseService("web")
	b, _ := watch.ParseService("web", "passing")
	if _, err := w.Sync([]watch.Spec{a, b}); err != nil {
		t.Fatal(err)
	}
	if keys := w.Keys(); len(keys) != 1 {
		t.Fatalf("keys %v, want one shared query", keys)
	}
}

func TestWatcherSyncForgetsAndCloseWaits(t *testing.T) {
	src := newScript()
	w := watch.New(t.Context(), src, fastOpts)
	one := watch.Spec{Kind: watch.KindKVGet, Name: "one"}
	two := watch.Spec{Kind: watch.KindKVGet, Name: "two"}
	if _, err := w.Sync([]watch.Spec{one, two}); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, src, 2)
	forgotten, err := w.Sync([]watch.Spec{two})
	if err != nil || len(forgotten) != 1 || forgotten[0] != one.String() {
		t.Fatalf("forgotten %v err %v, want [%s]", forgotten, err, one)
	}
	done := make(chan struct{})
	go func() { w.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return: a query goroutine is stuck")
	}
	if err := w.Watch(one); err == nil {
		t.Error("Watch after Close succeeded")
	}
}

func TestWatcherRequestDeadline(t *testing.T) {
	// A request that never answers is cut off by the client-side deadline
	// (wait + wait/16 + grace) and retried.
	src := newScript(step{block: true}, step{value: "a", index: 2})
	opts := fastOpts
	opts.Wait, opts.Grace = 20*time.Millisecond, 20*time.Millisecond
	w := watch.New(t.Context(), src, opts)
	defer w.Close()
	if err := w.Watch(watch.Spec{Kind: watch.KindKVGet, Name: "k"}); err != nil {
		t.Fatal(err)
	}
	got := collect(t, w, 2)
	if got[0].Err == nil || !errors.Is(got[0].Err, context.DeadlineExceeded) || got[1].Value != "a" {
		t.Fatalf("updates %+v, want a deadline error then the value", got)
	}
}

func TestForgottenUpdatesAreNotCurrent(t *testing.T) {
	src := newScript(step{value: "old", index: 5}, step{block: true}, step{value: "new", index: 9})
	w := watch.New(t.Context(), src, fastOpts)
	defer w.Close()
	spec := watch.Spec{Kind: watch.KindKVGet, Name: "a"}
	if err := w.Watch(spec); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, src, 2) // the first answer is queued, the second request blocks
	w.Forget(spec.String())
	if err := w.Watch(spec); err != nil { // watched again before the queue is drained
		t.Fatal(err)
	}
	var current []any
	for len(current) == 0 || current[len(current)-1] == "old" {
		u := collect(t, w, 1)[0]
		if w.Current(u) {
			current = append(current, u.Value)
		}
	}
	if len(current) != 1 || current[0] != "new" {
		t.Errorf("current updates %v, want only the new watch's answer", current)
	}
}

// closing is a Source whose one query blocks and records its Close.
type closing struct{ closed chan struct{} }

func (c closing) Query(watch.Spec) (watch.Query, error) { return c, nil }

func (c closing) Fetch(ctx context.Context, _ watch.FetchOptions) (watch.Result, error) {
	<-ctx.Done()
	return watch.Result{}, ctx.Err()
}

func (c closing) Close() { close(c.closed) }

func TestForgetClosesTheQuery(t *testing.T) {
	src := closing{closed: make(chan struct{})}
	w := watch.New(t.Context(), src, fastOpts)
	defer w.Close()
	spec := watch.Spec{Kind: watch.KindKVGet, Name: "a"}
	if err := w.Watch(spec); err != nil {
		t.Fatal(err)
	}
	w.Forget(spec.String())
	select {
	case <-src.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("a forgotten query was not closed")
	}
}
