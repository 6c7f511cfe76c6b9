package renderer_test

import (
	"sync"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
)

// recorder is an Observer that keeps what it is told.
type recorder struct {
	mu       sync.Mutex
	rendered []string
	ran      []string
	ticks    int
}

func (r *recorder) Rendered(source, result string, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rendered = append(r.rendered, result)
}

func (r *recorder) Ran(kind, source, command string, err error, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ran = append(r.ran, kind)
}

func (r *recorder) Tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ticks++
}

func (r *recorder) count(f func(*recorder) int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return f(r)
}

func TestStatusReportsPendingThenOK(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `a={{ key "a" }}`, "true")
	w := newFakeWatcher()
	obs := &recorder{}
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, Observer: obs})
	start(t, a)

	testkit.WaitFor(t, 5*time.Second, "the key to be watched", func() bool { return w.isWatching(keyA) })
	st := a.Status()
	if st.Ready || len(st.Templates) != 1 || st.Templates[0].State != renderer.StatePending {
		t.Fatalf("before data: status %+v, want one pending template, not ready", st)
	}
	if got := st.Templates[0].Missing; len(got) != 1 || got[0] != keyA {
		t.Fatalf("missing = %v, want [%s]", got, keyA)
	}
	w.set(keyA, "1")
	testkit.WaitFor(t, 5*time.Second, "status ok", func() bool {
		st := a.Status()
		return st.Ready && st.Templates[0].State == renderer.StateOK && !st.Templates[0].LastWrite.IsZero()
	})
	testkit.WaitFor(t, 5*time.Second, "a reload to be observed", func() bool {
		return obs.count(func(r *recorder) int { return len(r.ran) }) == 1
	})
	testkit.WaitFor(t, 5*time.Second, "a tick", func() bool { return obs.count(func(r *recorder) int { return r.ticks }) > 0 })
	if n := obs.count(func(r *recorder) int { return len(r.rendered) }); n == 0 {
		t.Fatal("no render observed")
	}
}
