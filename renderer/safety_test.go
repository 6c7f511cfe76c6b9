package renderer_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/watch"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = testkit.Buffer

func logTo(buf *syncBuffer) *slog.Logger { return slog.New(slog.NewTextHandler(buf, nil)) }

func stateOf(a *renderer.Agent, i int) renderer.TemplateStatus {
	st := a.Status()
	if i >= len(st.Templates) {
		return renderer.TemplateStatus{}
	}
	return st.Templates[i]
}

func TestCheckFailureKeepsDestination(t *testing.T) {
	tests := []struct {
		name  string
		check renderer.Command
	}{
		{name: "shell form reads CTPL_STAGED", check: renderer.ParseCommand(`! grep -q bad "$CTPL_STAGED"`)},
		{name: "list form gets the staged path", check: renderer.CommandFromList([]string{"sh", "-c", `! grep -q bad "$1"`, "check", renderer.StagedPlaceholder})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			reloads := filepath.Join(dir, "reloads")
			tpl := newTemplate(t, dir, `v={{ key "a" }}`, "echo run >> "+reloads)
			tpl.Check = tc.check
			var logs syncBuffer
			w := newFakeWatcher()
			a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs)})
			start(t, a)
			w.set(keyA, "good")
			testkit.WaitFor(t, 5*time.Second, "good", fileIs(tpl.Dest, "v=good"))
			testkit.WaitFor(t, 5*time.Second, "one reload", func() bool { return lines(reloads) == 1 })
			w.set(keyA, "bad")
			testkit.WaitFor(t, 5*time.Second, "held", func() bool { return stateOf(a, 0).State == renderer.StateHeld })
			if !strings.Contains(stateOf(a, 0).Reason, "check failed") {
				t.Errorf("reason %q does not say the check failed", stateOf(a, 0).Reason)
			}
			if b, _ := os.ReadFile(tpl.Dest); string(b) != "v=good" {
				t.Fatalf("destination %q after a failed check, want the old content", b)
			}
			assertNoTemps(t, dir)
			w.set(keyA, "better")
			testkit.WaitFor(t, 5*time.Second, "retried on the next change", fileIs(tpl.Dest, "v=better"))
			testkit.WaitFor(t, 5*time.Second, "ok", func() bool { return stateOf(a, 0).State == renderer.StateOK })
			testkit.WaitFor(t, 5*time.Second, "two reloads", func() bool { return lines(reloads) == 2 })
		})
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), renderer.TempPrefix) {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
}

func TestFailedReloadRestoresLastGoodContent(t *testing.T) {
	dir := t.TempDir()
	reloads := filepath.Join(dir, "reloads")
	dest := filepath.Join(dir, "out.conf")
	// The reload records what it saw and fails when the file says bad.
	tpl := newTemplate(t, dir, `v={{ key "a" }}`, fmt.Sprintf(`c=$(cat %s); echo "$c" >> %s; case "$c" in *bad*) exit 1;; esac`, dest, reloads))
	w := newFakeWatcher()
	obs := &recorder{}
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, MinReloadInterval: -1, Observer: obs})
	start(t, a)
	w.set(keyA, "one")
	testkit.WaitFor(t, 5*time.Second, "one", fileIs(dest, "v=one"))
	testkit.WaitFor(t, 5*time.Second, "one reload", func() bool { return lines(reloads) == 1 })

	w.set(keyA, "bad")
	testkit.WaitFor(t, 5*time.Second, "degraded", func() bool { return stateOf(a, 0).State == renderer.StateDegraded })
	testkit.WaitFor(t, 5*time.Second, "the reload of the restored content", func() bool { return lines(reloads) == 3 })
	if b, _ := os.ReadFile(reloads); string(b) != "v=one\nv=bad\nv=one\n" {
		t.Fatalf("reloads saw %q, want one, bad, then one again", b)
	}
	testkit.WaitFor(t, 5*time.Second, "content restored", fileIs(dest, "v=one"))

	held := func() int {
		return obs.count(func(r *recorder) int { return strings.Count(strings.Join(r.rendered, " "), renderer.ResultHeld) })
	}
	w.set(keyA, "two")
	testkit.WaitFor(t, 5*time.Second, "two", fileIs(dest, "v=two"))
	testkit.WaitFor(t, 5*time.Second, "ok again", func() bool { return stateOf(a, 0).State == renderer.StateOK })
	w.set(keyA, "bad") // fails again: restored to two
	testkit.WaitFor(t, 5*time.Second, "restored to two", func() bool { return lines(reloads) == 6 })
	before := held()
	w.set(keyA, "x")
	w.set(keyA, "bad") // the same bad output again: never rewritten
	testkit.WaitFor(t, 5*time.Second, "the bad output held", func() bool { return held() > before })
	w.set(keyA, "three")
	testkit.WaitFor(t, 5*time.Second, "three", fileIs(dest, "v=three"))
	testkit.WaitFor(t, 5*time.Second, "ok again", func() bool { return stateOf(a, 0).State == renderer.StateOK })
	if b, _ := os.ReadFile(reloads); strings.Count(string(b), "v=bad") != 2 {
		t.Fatalf("the bad content was activated again: reloads saw %q", b)
	}
}

func health(n int) []*watch.HealthService {
	out := make([]*watch.HealthService, n)
	for i := range out {
		out[i] = &watch.HealthService{Name: "web", ID: fmt.Sprint("web", i), Address: "10.0.0.1", Port: 8000 + i, Status: watch.StatusPassing}
	}
	return out
}

const keyWeb = "health.service(web)"

func TestHoldSuspiciousRenders(t *testing.T) {
	tests := []struct {
		name      string
		onEmpty   string
		maxShrink float64
		from, to  int
		held      bool
	}{
		{name: "empty is held by default", from: 3, to: 0, held: true},
		{name: "empty allowed", onEmpty: renderer.OnEmptyAllow, from: 3, to: 0},
		{name: "shrink within max_shrink", maxShrink: 0.5, from: 4, to: 2},
		{name: "shrink beyond max_shrink", maxShrink: 0.5, from: 4, to: 1, held: true},
		{name: "no limit on shrinking", from: 4, to: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tpl := newTemplate(t, dir, `{{ range service "web" }}{{ .Port }};{{ end }}`, "")
			tpl.OnEmpty, tpl.MaxShrink = tc.onEmpty, tc.maxShrink
			w := newFakeWatcher()
			a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet})
			start(t, a)
			send := func(n int) {
				w.updates <- watch.Update{Key: keyWeb, Value: health(n), Index: uint64(n + 10), At: time.Now()}
			}
			render := func(n int) string {
				var b strings.Builder
				for i := range n {
					fmt.Fprintf(&b, "%d;", 8000+i)
				}
				return b.String()
			}
			send(tc.from)
			testkit.WaitFor(t, 5*time.Second, "first render", fileIs(tpl.Dest, render(tc.from)))
			send(tc.to)
			if !tc.held {
				testkit.WaitFor(t, 5*time.Second, "render", fileIs(tpl.Dest, render(tc.to)))
				return
			}
			testkit.WaitFor(t, 5*time.Second, "held", func() bool { return stateOf(a, 0).State == renderer.StateHeld })
			if r := stateOf(a, 0).Reason; !strings.Contains(r, keyWeb) {
				t.Errorf("reason %q does not name the query", r)
			}
			if b, _ := os.ReadFile(tpl.Dest); string(b) != render(tc.from) {
				t.Fatalf("destination %q while held, want %q", b, render(tc.from))
			}
			if !a.Status().Ready {
				t.Error("a template holding good content is not ready")
			}
			send(tc.from - 1)
			testkit.WaitFor(t, 5*time.Second, "render once instances return", fileIs(tpl.Dest, render(tc.from-1)))
			testkit.WaitFor(t, 5*time.Second, "ok", func() bool { return stateOf(a, 0).State == renderer.StateOK })
		})
	}
}

func TestReloadGroupWaitsForEveryTemplate(t *testing.T) {
	dir := t.TempDir()
	reloads := filepath.Join(dir, "reloads")
	cmd := fmt.Sprintf("cat %s/one.conf %s/two.conf >> %s; echo >> %s", dir, dir, reloads, reloads)
	one := newTemplate(t, dir, `1{{ key "a" }}`, cmd)
	one.Dest = filepath.Join(dir, "one.conf")
	two := newTemplate(t, dir, `2{{ key "a" }}`, cmd)
	two.Dest = filepath.Join(dir, "two.conf")
	two.Wait = renderer.Wait{Min: 300 * time.Millisecond, Max: time.Second}
	w := newFakeWatcher()
	start(t, renderer.New([]renderer.Template{one, two}, w, renderer.Options{Logger: quiet, MinReloadInterval: -1}))
	w.set(keyA, "x")
	testkit.WaitFor(t, 5*time.Second, "first reload", func() bool { return lines(reloads) == 1 })
	w.set(keyA, "y")
	testkit.WaitFor(t, 5*time.Second, "second reload", func() bool { return lines(reloads) == 2 })
	// A third change is the sentinel: the group's reloads run in order, so
	// a wrong extra reload for the second change shows before the third's.
	w.set(keyA, "z")
	testkit.WaitFor(t, 5*time.Second, "third reload", func() bool { b, _ := os.ReadFile(reloads); return strings.Contains(string(b), "z") })
	testkit.WaitFor(t, 5*time.Second, "third reload after both files", func() bool { b, _ := os.ReadFile(reloads); return strings.HasSuffix(string(b), "\n") })
	if b, _ := os.ReadFile(reloads); string(b) != "1x2x\n1y2y\n1z2z\n" {
		t.Fatalf("reloads saw %q, want one run per change, after both files", b)
	}
}

func TestMinReloadIntervalCoalesces(t *testing.T) {
	dir := t.TempDir()
	reloads := filepath.Join(dir, "reloads")
	tpl := newTemplate(t, dir, `{{ key "a" }}`, "")
	tpl.Command = renderer.ParseCommand(fmt.Sprintf("cat %s >> %s; echo >> %s", tpl.Dest, reloads, reloads))
	w := newFakeWatcher()
	start(t, renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, MinReloadInterval: 400 * time.Millisecond}))
	w.set(keyA, "0")
	testkit.WaitFor(t, 5*time.Second, "first reload", func() bool { return lines(reloads) == 1 })
	began := time.Now()
	for i := 1; i <= 10; i++ {
		w.set(keyA, fmt.Sprint(i))
		time.Sleep(40 * time.Millisecond) // the flips are the workload, not synchronisation
	}
	testkit.WaitFor(t, 5*time.Second, "the last reload covers the last value", func() bool {
		b, _ := os.ReadFile(reloads)
		return strings.HasSuffix(string(b), "\n10\n")
	})
	n := lines(reloads) - 1
	limit := int(time.Since(began)/(400*time.Millisecond)) + 2
	if n > limit {
		t.Errorf("%d reloads for 10 changes in %v, want at most %d", n, time.Since(began), limit)
	}
	t.Logf("%d reloads for 10 changes", n)
}

func TestSlowReloadDelaysNoOtherGroup(t *testing.T) {
	dir := t.TempDir()
	slow := newTemplate(t, dir, `{{ key "a" }}`, "sleep 3")
	slow.Dest = filepath.Join(dir, "slow.conf")
	fast := newTemplate(t, dir, `{{ key "a" }}`, "touch "+filepath.Join(dir, "fast-$(cat "+filepath.Join(dir, "fast.conf")+")"))
	fast.Dest = filepath.Join(dir, "fast.conf")
	w := newFakeWatcher()
	start(t, renderer.New([]renderer.Template{slow, fast}, w, renderer.Options{Logger: quiet, MinReloadInterval: -1}))
	w.set(keyA, "1")
	testkit.WaitFor(t, 5*time.Second, "fast reload 1", func() bool { _, err := os.Stat(filepath.Join(dir, "fast-1")); return err == nil })
	w.set(keyA, "2")
	began := time.Now()
	testkit.WaitFor(t, 5*time.Second, "fast reload 2", func() bool { _, err := os.Stat(filepath.Join(dir, "fast-2")); return err == nil })
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("the fast command waited %v behind the slow one", d)
	}
	testkit.WaitFor(t, 5*time.Second, "slow file written at once", fileIs(slow.Dest, "2"))
}

func TestOwedReloadRunsAfterRestart(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	reloads := filepath.Join(dir, "reloads")
	tpl := newTemplate(t, dir, `{{ key "a" }}`, "echo run >> "+reloads)
	w := newFakeWatcher()
	w.set(keyA, "x")
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, StateDir: state})
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	testkit.WaitFor(t, 5*time.Second, "first reload", func() bool { return lines(reloads) == 1 })
	testkit.WaitFor(t, 5*time.Second, "nothing owed", func() bool {
		b, err := os.ReadFile(filepath.Join(state, "owed-reloads.json"))
		return err == nil && strings.TrimSpace(string(b)) == "[]"
	})
	stop() // the first run ends (it holds the directory) before the restart
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Write an owed entry as a crashed run leaves it; the content is current,
	// so only the record can cause the reload.
	rec := fmt.Sprintf(`[{"args":[%q],"shell":true}]`, "echo run >> "+reloads)
	if err := os.WriteFile(filepath.Join(state, "owed-reloads.json"), []byte(rec), 0o600); err != nil {
		t.Fatal(err)
	}
	w2 := newFakeWatcher()
	w2.set(keyA, "x")
	start(t, renderer.New([]renderer.Template{tpl}, w2, renderer.Options{Logger: quiet, StateDir: state}))
	testkit.WaitFor(t, 5*time.Second, "the owed reload", func() bool { return lines(reloads) == 2 })
	testkit.WaitFor(t, 5*time.Second, "nothing owed", func() bool {
		b, _ := os.ReadFile(filepath.Join(state, "owed-reloads.json"))
		return strings.TrimSpace(string(b)) == "[]"
	})
}

func TestSlowCheckDelaysNoOtherTemplate(t *testing.T) {
	dir := t.TempDir()
	release := filepath.Join(dir, "release")
	slow := newTemplate(t, dir, `{{ key "a" }}`, "")
	slow.Dest = filepath.Join(dir, "slow.conf")
	slow.Check = renderer.ParseCommand(fmt.Sprintf("while ! test -f %s; do sleep 0.02; done", release))
	fast := newTemplate(t, dir, `{{ key "a" }}`, "")
	fast.Dest = filepath.Join(dir, "fast.conf")
	w := newFakeWatcher()
	start(t, renderer.New([]renderer.Template{slow, fast}, w, renderer.Options{Logger: quiet}))
	w.set(keyA, "1")
	testkit.WaitFor(t, 5*time.Second, "the other template written while the check runs", fileIs(fast.Dest, "1"))
	w.set(keyA, "2")
	testkit.WaitFor(t, 5*time.Second, "and again", fileIs(fast.Dest, "2"))
	if _, err := os.Stat(slow.Dest); err == nil {
		t.Fatal("written before its check passed")
	}
	os.WriteFile(release, nil, 0o644)
	testkit.WaitFor(t, 5*time.Second, "the checked template with the latest data", fileIs(slow.Dest, "2"))
	assertNoTemps(t, dir)
}

func TestReplaceMovesTemplatesBetweenReloadGroups(t *testing.T) {
	dir := t.TempDir()
	runsA, runsB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{newTemplate(t, dir, `1{{ key "a" }}`, "echo >> "+runsA)}, w, renderer.Options{Logger: quiet})
	start(t, a)
	w.set(keyA, "x")
	testkit.WaitFor(t, 5*time.Second, "reload A", func() bool { return lines(runsA) == 1 })
	if err := a.Replace(t.Context(), []renderer.Template{newTemplate(t, dir, `2{{ key "a" }}`, "echo >> "+runsB)}); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, 5*time.Second, "reload B for the new content", func() bool { return lines(runsB) == 1 })
	w.set(keyA, "y")
	testkit.WaitFor(t, 5*time.Second, "reload B again", func() bool { return lines(runsB) == 2 })
	if n := lines(runsA); n != 1 {
		t.Errorf("the retired command ran %d times, want 1", n)
	}
}

func TestOnceModeChecksAndRollsBack(t *testing.T) {
	tests := []struct {
		name, check, command string
		wantContent          string
	}{
		{name: "check fails", check: "false", wantContent: "old"},
		{name: "reload fails", command: `grep -q old "$0" || exit 1`, wantContent: "old"},
		{name: "reload times out", command: `grep -q old "$0" || sleep 5`, wantContent: "old"},
		{name: "both pass", check: "true", command: "true", wantContent: "new"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tpl := newTemplate(t, dir, `{{ key "a" }}`, "")
			if tc.command != "" {
				tpl.Command = renderer.CommandFromList([]string{"sh", "-c", tc.command, tpl.Dest})
				tpl.CommandTimeout = 300 * time.Millisecond
			}
			tpl.Check = renderer.ParseCommand(tc.check)
			os.WriteFile(tpl.Dest, []byte("old"), 0o644)
			w := newFakeWatcher()
			w.set(keyA, "new")
			err := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Once: true, Logger: quiet}).Run(t.Context())
			if (err != nil) != (tc.wantContent == "old") {
				t.Errorf("Run error %v", err)
			}
			if b, _ := os.ReadFile(tpl.Dest); string(b) != tc.wantContent {
				t.Errorf("destination %q, want %q", b, tc.wantContent)
			}
		})
	}
}

func TestEmptyQueryHeldAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	tpl := newTemplate(t, dir, `{{ range service "web" }}{{ .Port }};{{ end }}`, "")
	send := func(w *fakeWatcher, n int) {
		w.updates <- watch.Update{Key: keyWeb, Value: health(n), Index: uint64(n + 10), At: time.Now()}
	}
	ctx, cancel := context.WithCancel(t.Context())
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, StateDir: state})
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	send(w, 2)
	testkit.WaitFor(t, 5*time.Second, "first render", fileIs(tpl.Dest, "8000;8001;"))
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	w2 := newFakeWatcher()
	a2 := renderer.New([]renderer.Template{tpl}, w2, renderer.Options{Logger: quiet, StateDir: state})
	start(t, a2)
	send(w2, 0)
	testkit.WaitFor(t, 5*time.Second, "held after the restart", func() bool { return stateOf(a2, 0).State == renderer.StateHeld })
	if b, _ := os.ReadFile(tpl.Dest); string(b) != "8000;8001;" {
		t.Fatalf("destination %q, want the content from before the restart", b)
	}
}

func TestReloadFailingOutsideTheContentIsRetried(t *testing.T) {
	dir := t.TempDir()
	runs, up := filepath.Join(dir, "runs"), filepath.Join(dir, "up")
	// The target is down (no "up" file) when the first content arrives.
	tpl := newTemplate(t, dir, `{{ key "a" }}`, fmt.Sprintf("echo >> %s; test -f %s", runs, up))
	var logs syncBuffer
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs), MinReloadInterval: -1})
	start(t, a)
	w.set(keyA, "1")
	testkit.WaitFor(t, 5*time.Second, "degraded", func() bool { return stateOf(a, 0).State == renderer.StateDegraded })
	testkit.WaitFor(t, 5*time.Second, "a retry", func() bool { return lines(runs) >= 2 })
	os.WriteFile(up, nil, 0o644)
	testkit.WaitFor(t, 5*time.Second, "ok once the target is up", func() bool { return stateOf(a, 0).State == renderer.StateOK })
	if st := stateOf(a, 0); st.LastReload.IsZero() {
		t.Error("no successful reload recorded")
	}
	if n := strings.Count(logs.String(), `msg="reload failed"`); n != 1 {
		t.Errorf("the same failure was logged %d times, want once", n)
	}
}
