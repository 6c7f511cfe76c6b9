package renderer_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/template"
)

// longTemplate writes "x" as many times as the key "n" says, within
// limits.
func longTemplate(t *testing.T, dir string, limit time.Duration) renderer.Template {
	t.Helper()
	tmpl, err := template.Parse("long.tmpl", `{{ range loop (parseInt (key "n")) }}x{{ end }}`,
		template.Options{MaxRenderTime: limit, MaxOutput: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	return renderer.Template{Source: "long.tmpl", Tmpl: tmpl, Dest: filepath.Join(dir, "long.conf"), File: renderer.DefaultFileOptions()}
}

// A render over its time limit is abandoned: the destination keeps its
// content, the status says why, the templates after it render, and the
// loop keeps proving it is alive to the watchdog while the render runs.
func TestAgentAbandonsARenderOverItsTimeLimit(t *testing.T) {
	dir := t.TempDir()
	long := longTemplate(t, dir, 1500*time.Millisecond)
	mustWriteFile(t, long.Dest, "old")
	other := newTemplate(t, dir, `a={{ key "a" }}`, "")
	w := newFakeWatcher()
	obs := &recorder{}
	a := renderer.New([]renderer.Template{long, other}, w, renderer.Options{Logger: quiet, Observer: obs})
	w.set("kv.get(n)", "4000000000")
	w.set(keyA, "1")
	start(t, a)

	testkit.WaitFor(t, 5*time.Second, "the other template", fileIs(other.Dest, "a=1"))
	testkit.WaitFor(t, 5*time.Second, "the long template failed naming max_render_time", func() bool {
		s := a.Status().Templates[0]
		return s.State == renderer.StateFailed && strings.Contains(s.Reason, "max_render_time (1.5s)")
	})
	if ticks := obs.count(func(r *recorder) int { return r.ticks }); ticks < 2 {
		t.Errorf("%d watchdog ticks during a 1.5 s render, want at least 2", ticks)
	}
	if b, _ := os.ReadFile(long.Dest); string(b) != "old" {
		t.Errorf("destination holds %d bytes, want its old content", len(b))
	}
}

// In once mode a render still running when the context ends fails the run.
func TestAgentOnceFailsAtItsDeadlineDuringARender(t *testing.T) {
	dir := t.TempDir()
	long := longTemplate(t, dir, time.Hour)
	w := newFakeWatcher()
	w.set("kv.get(n)", "4000000000")
	a := renderer.New([]renderer.Template{long}, w, renderer.Options{Logger: quiet, Once: true})
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	begin := time.Now()
	err := a.Run(ctx)
	if !errors.Is(err, template.ErrLimit) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run: %v; want the render abandoned at the deadline", err)
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Errorf("Run returned after %s, its deadline was 300ms", d)
	}
	if _, err := os.Stat(long.Dest); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("destination written: %v", err)
	}
}

func mustWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
