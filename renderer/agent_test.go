package renderer_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// fakeWatcher records what the agent asks to watch; the test sends updates.
type fakeWatcher struct {
	mu      sync.Mutex
	watched []string
	updates chan watch.Update
	stale   map[watch.Update]bool // updates Current reports as not current
}

func newFakeWatcher() *fakeWatcher { return &fakeWatcher{updates: make(chan watch.Update, 16)} }

func (f *fakeWatcher) Sync(specs []watch.Spec) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.watched = f.watched[:0]
	for _, s := range specs {
		f.watched = append(f.watched, s.String())
	}
	return nil, nil
}

func (f *fakeWatcher) Updates() <-chan watch.Update { return f.updates }

func (f *fakeWatcher) Current(u watch.Update) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.stale) == 0 {
		return true // and a Value of a slice type cannot be hashed
	}
	return !f.stale[u]
}

func (f *fakeWatcher) isWatching(key string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range f.watched {
		if k == key {
			return true
		}
	}
	return false
}

func (f *fakeWatcher) set(key, value string) {
	f.updates <- watch.Update{Key: key, Value: watch.KVValue{Value: value, Exists: true}, Index: 1, At: time.Now()}
}

const keyA = "kv.get(a)"

func newTemplate(t *testing.T, dir, text, command string) renderer.Template {
	t.Helper()
	tmpl, err := template.Parse("t.tmpl", text, template.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return renderer.Template{
		Source:  "t.tmpl",
		Tmpl:    tmpl,
		Dest:    filepath.Join(dir, "out.conf"),
		File:    renderer.DefaultFileOptions(),
		Command: renderer.ParseCommand(command),
	}
}

var quiet = slog.New(slog.DiscardHandler)

// start runs the agent until the test ends.
func start(t *testing.T, a *renderer.Agent) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func fileIs(path, want string) func() bool {
	return func() bool { b, err := os.ReadFile(path); return err == nil && string(b) == want }
}

func lines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

func TestAgentRendersWhenCompleteAndRunsCommandOncePerChange(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "reloads")
	tpl := newTemplate(t, dir, `a={{ key "a" }}`, "echo run >> "+log)
	w := newFakeWatcher()
	start(t, renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet}))

	testkit.WaitFor(t, 5*time.Second, "the key to be watched", func() bool { return w.isWatching(keyA) })
	if _, err := os.Stat(tpl.Dest); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("destination written before its data arrived: %v", err)
	}
	w.set(keyA, "1")
	testkit.WaitFor(t, 5*time.Second, "a=1", fileIs(tpl.Dest, "a=1"))
	testkit.WaitFor(t, 5*time.Second, "one reload", func() bool { return lines(log) == 1 })

	info, _ := os.Stat(tpl.Dest)
	w.set(keyA, "1") // the same content: no write, no command
	w.set(keyA, "2")
	testkit.WaitFor(t, 5*time.Second, "a=2", fileIs(tpl.Dest, "a=2"))
	testkit.WaitFor(t, 5*time.Second, "two reloads", func() bool { return lines(log) == 2 })
	if info2, _ := os.Stat(tpl.Dest); os.SameFile(info, info2) {
		t.Error("the file was not replaced")
	}
}

func TestAgentDropsUpdatesOfForgottenWatches(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `a={{ key "a" }}`, "")
	w := newFakeWatcher()
	old := watch.Update{Key: keyA, Value: watch.KVValue{Value: "forgotten", Exists: true}, Index: 1, At: time.Now()}
	w.stale = map[watch.Update]bool{old: true}
	w.updates <- old
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Once: true, Logger: quiet}).Run(ctx)
	if !errors.Is(err, renderer.ErrIncomplete) {
		b, _ := os.ReadFile(tpl.Dest)
		t.Errorf("Run: %v, rendered %q; want ErrIncomplete: the only update came from a forgotten watch", err, b)
	}
}

func TestAgentIdenticalCommandsRunOncePerPass(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "reloads")
	one := newTemplate(t, dir, `{{ key "a" }}`, "echo run >> "+log)
	two := newTemplate(t, dir, `{{ key "a" }}!`, "echo run >> "+log)
	two.Dest = filepath.Join(dir, "two.conf")
	w := newFakeWatcher()
	w.set(keyA, "x")
	a := renderer.New([]renderer.Template{one, two}, w, renderer.Options{Once: true, Logger: quiet})
	if err := a.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := lines(log); n != 1 {
		t.Fatalf("the shared command ran %d times, want 1", n)
	}
}

func TestAgentOnceReportsMissingQueries(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `{{ key "a" }}{{ key "never" }}`, "")
	w := newFakeWatcher()
	w.set(keyA, "x")
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Once: true, Logger: quiet}).Run(ctx)
	if !errors.Is(err, renderer.ErrIncomplete) || !strings.Contains(err.Error(), "kv.get(never)") {
		t.Fatalf("err %v, want ErrIncomplete naming kv.get(never)", err)
	}
	if strings.Contains(err.Error(), "kv.get(a)") {
		t.Errorf("err names a query that arrived: %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("err holds a newline (a log value must be one line): %q", err)
	}
	if _, err := os.Stat(tpl.Dest); !errors.Is(err, os.ErrNotExist) {
		t.Error("an incomplete template was written")
	}
}

func TestAgentDryPrintsAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `a={{ key "a" }}`, "touch "+filepath.Join(dir, "ran"))
	w := newFakeWatcher()
	w.set(keyA, "1")
	var out bytes.Buffer
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Once: true, Dry: true, DryOut: &out, Logger: quiet})
	if err := a.Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	if want := "> " + tpl.Dest + "\na=1"; out.String() != want {
		t.Errorf("dry output %q, want %q", out.String(), want)
	}
	for _, f := range []string{tpl.Dest, filepath.Join(dir, "ran")} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists in dry mode", f)
		}
	}
}

func TestAgentExecutionErrorKeepsTheFile(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `{{ $v := key "a" }}{{ if eq $v "bad" }}{{ index $v 99 }}{{ end }}{{ $v }}`, "")
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet})
	start(t, a)
	w.set(keyA, "good")
	testkit.WaitFor(t, 5*time.Second, "good", fileIs(tpl.Dest, "good"))
	w.set(keyA, "bad")
	// The failing render has run (not merged away with a later value):
	// the file is checked while "bad" is current.
	testkit.WaitFor(t, 5*time.Second, "the failed state", func() bool {
		st := a.Status()
		return len(st.Templates) == 1 && st.Templates[0].State == renderer.StateFailed
	})
	if b, _ := os.ReadFile(tpl.Dest); string(b) != "good" {
		t.Fatalf("the file is %q after a failed render, want the last good output", b)
	}
	w.set(keyA, "fine")
	testkit.WaitFor(t, 5*time.Second, "fine after the error", fileIs(tpl.Dest, "fine"))
	// The state follows the write: wait for it rather than read it once.
	testkit.WaitFor(t, 5*time.Second, "state ok after recovery", func() bool {
		return a.Status().Templates[0].State == renderer.StateOK
	})
}

func TestAgentWaitDelaysAllButTheFirstRender(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `{{ key "a" }}`, "")
	tpl.Wait = renderer.Wait{Min: time.Second, Max: 3 * time.Second}
	w := newFakeWatcher()
	start(t, renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet}))
	began := time.Now()
	w.set(keyA, "1")
	testkit.WaitFor(t, 5*time.Second, "the first render", fileIs(tpl.Dest, "1"))
	if d := time.Since(began); d > 800*time.Millisecond {
		t.Errorf("the first render took %v: it must not wait", d)
	}
	changed := time.Now()
	w.set(keyA, "2")
	testkit.WaitFor(t, 5*time.Second, "the second render", fileIs(tpl.Dest, "2"))
	if d := time.Since(changed); d < time.Second {
		t.Errorf("the second render came after %v, before wait.min", d)
	}
}

func TestAgentReplaceKeepsData(t *testing.T) {
	dir := t.TempDir()
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{newTemplate(t, dir, `v1 {{ key "a" }}`, "")}, w, renderer.Options{Logger: quiet})
	start(t, a)
	w.set(keyA, "x")
	dest := filepath.Join(dir, "out.conf")
	testkit.WaitFor(t, 5*time.Second, "v1", fileIs(dest, "v1 x"))
	if err := a.Replace(t.Context(), []renderer.Template{newTemplate(t, dir, `v2 {{ key "a" }}`, "")}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 5*time.Second, "v2 rendered from the data already there", fileIs(dest, "v2 x"))
}

func TestAgentRewritesADestinationChangedBehindItsBack(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, dest string)
	}{
		{name: "rewritten in place, same size", change: func(t *testing.T, dest string) {
			f, err := os.OpenFile(dest, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString("a=9")
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "replaced", change: func(t *testing.T, dest string) {
			if err := os.WriteFile(dest+".new", []byte("a=9"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(dest+".new", dest); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "removed", change: func(t *testing.T, dest string) {
			if err := os.Remove(dest); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			log := filepath.Join(dir, "reloads")
			tpl := newTemplate(t, dir, `a={{ key "a" }}`, "echo run >> "+log)
			w := newFakeWatcher()
			start(t, renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet}))
			w.set(keyA, "1")
			testkit.WaitFor(t, 5*time.Second, "a=1", fileIs(tpl.Dest, "a=1"))
			testkit.WaitFor(t, 5*time.Second, "one reload", func() bool { return lines(log) == 1 })

			tc.change(t, tpl.Dest)
			w.set(keyA, "1") // the same output as written
			testkit.WaitFor(t, 5*time.Second, "a=1 back", fileIs(tpl.Dest, "a=1"))
			testkit.WaitFor(t, 5*time.Second, "a reload of the rewritten file", func() bool { return lines(log) == 2 })
		})
	}
}

// TestAgentIncompleteTemplateDiscoversNestedQueries checks that a template
// waiting for a query that has not arrived still executes again for data
// that did, discovering the queries nested behind it, and renders once all
// arrived, in both modes.
func TestAgentIncompleteTemplateDiscoversNestedQueries(t *testing.T) {
	for _, once := range []bool{false, true} {
		t.Run(map[bool]string{false: "daemon", true: "once"}[once], func(t *testing.T) {
			dir := t.TempDir()
			tpl := newTemplate(t, dir, `{{ key "c" }}/{{ with key "a" }}{{ key . }}{{ end }}`, "")
			w := newFakeWatcher()
			a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Once: once, Logger: quiet})
			w.set(keyA, "b") // names the nested key; c stays missing
			done := make(chan error, 1)
			if once {
				go func() { done <- a.Run(t.Context()) }()
			} else {
				start(t, a)
			}

			testkit.WaitFor(t, 5*time.Second, "the nested key to be watched", func() bool { return w.isWatching("kv.get(b)") })
			if _, err := os.Stat(tpl.Dest); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("destination written while c is missing: %v", err)
			}
			w.set("kv.get(b)", "B")
			w.set("kv.get(c)", "C")
			testkit.WaitFor(t, 5*time.Second, "C/B", fileIs(tpl.Dest, "C/B"))
			if once {
				if err := <-done; err != nil {
					t.Fatalf("Run: %v", err)
				}
			}
		})
	}
}
