package watch_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

func TestFreshness(t *testing.T) {
	boom := errors.New("boom")
	src := newScript(step{value: 1, index: 5}, step{err: boom}, step{err: boom}, step{value: 1, index: 5})
	w := watch.New(t.Context(), src, fastOpts)
	defer w.Close()
	spec := watch.Spec{Kind: watch.KindKVGet, Name: "a"}
	before := time.Now()
	if err := w.Watch(spec); err != nil {
		t.Fatal(err)
	}
	key := spec.String()
	got := collect(t, w, 3) // the value, the error, the recovery
	if got[1].Err == nil || got[2].Err != nil {
		t.Fatalf("updates %+v: want value, error, value", got)
	}
	waitCalls(t, src, 5) // the script now blocks: the fourth answer is recorded
	st, ok := w.Freshness()[key]
	if !ok {
		t.Fatalf("Freshness has no %s: %v", key, w.Freshness())
	}
	if st.Err != nil || !st.ErrSince.IsZero() || st.LastOK.Before(before) {
		t.Errorf("after recovery: %+v, want LastOK set, no error", st)
	}
	w.Forget(key)
	if _, ok := w.Freshness()[key]; ok {
		t.Errorf("Freshness still has %s after Forget", key)
	}
}

func TestFreshnessWhileFailing(t *testing.T) {
	boom := errors.New("boom")
	src := newScript(step{err: boom}, step{err: boom}, step{err: boom})
	w := watch.New(t.Context(), src, fastOpts)
	defer w.Close()
	spec := watch.Spec{Kind: watch.KindKVGet, Name: "b"}
	if err := w.Watch(spec); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, src, 4)
	st := w.Freshness()[spec.String()]
	if !errors.Is(st.Err, boom) || st.ErrSince.IsZero() || !st.LastOK.IsZero() {
		t.Errorf("while failing: %+v, want Err boom, ErrSince set, LastOK zero", st)
	}
}
