package renderer_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/watch"
)

// setHealth sends a health service value for keyWeb.
func (f *fakeWatcher) setHealth(list []*watch.HealthService) { f.setHealthOf(keyWeb, list) }

// setHealthOf sends a health service value for key.
func (f *fakeWatcher) setHealthOf(key string, list []*watch.HealthService) {
	f.updates <- watch.Update{Key: key, Value: list, Index: 1, At: time.Now()}
}

// keyWebAny is service "web|any": instances of every status.
const keyWebAny = "health.service(web|any)"

// logLine returns the first line of logs containing every one of parts.
func logLine(logs string, parts ...string) string {
	for l := range strings.Lines(logs) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(l, p)
		}
		if all {
			return l
		}
	}
	return ""
}

func TestRenderLogNamesTheChangeAndReloadNamesItsRenders(t *testing.T) {
	dir := t.TempDir()
	reloads := filepath.Join(dir, "reloads")
	tpl := newTemplate(t, dir, `{{ range service "web|any" }}{{ .Address }}:{{ .Port }} {{ end }}`, "echo run >> "+reloads)
	tpl.LogDiff = true
	var logs syncBuffer
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs), MinReloadInterval: -1})
	start(t, a)
	three := health(3)
	w.setHealthOf(keyWebAny, three)
	testkit.WaitFor(t, 5*time.Second, "first reload", func() bool { return lines(reloads) == 1 })

	// web1 leaves, web2 turns critical (still listed: an any-status query),
	// web7 arrives.
	next := []*watch.HealthService{three[0],
		{Name: "web", ID: "web2", Address: "10.0.0.1", Port: 8002, Status: watch.StatusCritical},
		{Name: "web", ID: "web7", Node: "n7", Address: "10.0.0.7", Port: 8007, Status: watch.StatusPassing}}
	w.setHealthOf(keyWebAny, next)
	testkit.WaitFor(t, 5*time.Second, "second reload", func() bool { return lines(reloads) == 2 })
	testkit.WaitFor(t, 5*time.Second, "the reload line", func() bool { return logLine(logs.String(), `msg="command ran"`, "renders=2") != "" })

	line := logLine(logs.String(), "msg=rendered", "render=2")
	for _, want := range []string{
		"changed=health.service(web|any)",
		`added=10.0.0.7:8007(web7)`,
		`removed=10.0.0.1:8001(web1)`,
		`modified="10.0.0.1:8002(web2, passing→critical)"`,
	} {
		if !strings.Contains(line, want) {
			t.Errorf("render line lacks %s:\n%s", want, line)
		}
	}
	diff := logLine(logs.String(), "msg=diff", "render=2")
	if !strings.Contains(diff, `-10.0.0.1:8000 10.0.0.1:8001 10.0.0.1:8002 \n\\ No newline at end of file\n+10.0.0.1:8000 10.0.0.1:8002 10.0.0.7:8007 `) {
		t.Errorf("diff line:\n%s", diff)
	}
	if got := stateOf(a, 0).LastChange; got != "health.service(web|any): 1 added, 1 removed, 1 modified" {
		t.Errorf("LastChange = %q", got)
	}
	st := a.Status()
	if c := st.Instances[keyWebAny]; c != (renderer.InstanceCount{Passing: 2, Total: 3}) {
		t.Errorf("Instances[%s] = %+v, want 2 passing of 3", keyWebAny, c)
	}
	if st.Changes.Added != 4 || st.Changes.Removed != 1 || st.Changes.Modified != 1 {
		t.Errorf("Changes = %+v, want 4 added (3 at the first render), 1 removed, 1 modified", st.Changes)
	}
}

func TestAttributionIsBounded(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `{{ range service "web" }}{{ .Port }} {{ end }}`, "")
	var logs syncBuffer
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs)})
	start(t, a)
	w.setHealth(health(1000))
	testkit.WaitFor(t, 5*time.Second, "the render", func() bool { return logLine(logs.String(), "msg=rendered") != "" })
	line := logLine(logs.String(), "msg=rendered")
	if !strings.Contains(line, "+990 more") || len(line) > 1000 {
		t.Errorf("render line of %d bytes, want the added list cut after 10:\n%s", len(line), line)
	}
	// service "web" returns passing instances only: no total is known.
	if c := a.Status().Instances[keyWeb]; c != (renderer.InstanceCount{Passing: 1000, Total: 1000, PassingOnly: true}) {
		t.Errorf("Instances[%s] = %+v, want 1000 passing, passing only", keyWeb, c)
	}
}

func TestFailedVerifyRollsBackAReloadThatExitedZero(t *testing.T) {
	dir := t.TempDir()
	reloads := filepath.Join(dir, "reloads")
	dest := filepath.Join(dir, "out.conf")
	// The "target" takes whatever the reload gives it, but refuses a bad
	// file silently: the reload exits 0, and only verify can tell.
	loaded := filepath.Join(dir, "loaded")
	tpl := newTemplate(t, dir, `v={{ key "a" }}`, fmt.Sprintf(
		`c=$(cat %[1]s); echo "$c" >> %[2]s; case "$c" in *bad*) ;; *) cp %[1]s %[3]s;; esac`, dest, reloads, loaded))
	tpl.Verify = renderer.CommandFromList([]string{"cmp", "-s", dest, loaded})
	tpl.VerifyTimeout = 5 * time.Second
	var logs syncBuffer
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs), MinReloadInterval: -1})
	start(t, a)
	w.set(keyA, "one")
	testkit.WaitFor(t, 5*time.Second, "one loaded", fileIs(loaded, "v=one"))
	testkit.WaitFor(t, 5*time.Second, "one verified", func() bool { return !stateOf(a, 0).LastReload.IsZero() })
	if l := logLine(logs.String(), `msg="command ran"`); !strings.Contains(l, "verify=ok") {
		t.Errorf("the reload line does not say verify passed: %s", l)
	}
	w.set(keyA, "bad")
	testkit.WaitFor(t, 5*time.Second, "degraded", func() bool { return stateOf(a, 0).State == renderer.StateDegraded })
	testkit.WaitFor(t, 5*time.Second, "the reload of the restored content", func() bool { return lines(reloads) == 3 })
	testkit.WaitFor(t, 5*time.Second, "content restored", fileIs(dest, "v=one"))
	if r := stateOf(a, 0).Reason; !strings.Contains(r, "verify failed") {
		t.Errorf("reason %q does not name the verify", r)
	}
	if l := logLine(logs.String(), "level=ERROR", `msg="reload failed"`, "verify failed"); l == "" {
		t.Errorf("no error line for the failed verify:\n%s", logs.String())
	}
	w.set(keyA, "two")
	testkit.WaitFor(t, 5*time.Second, "two loaded", fileIs(loaded, "v=two"))
	testkit.WaitFor(t, 5*time.Second, "ok again", func() bool { return stateOf(a, 0).State == renderer.StateOK })
}

// TestReloadOutputIsOneLine: a reload's output is logged in one value of
// one line (its lines joined by " | "), at ERROR when the reload failed and
// at INFO when it succeeded.
func TestReloadOutputIsOneLine(t *testing.T) {
	dir := t.TempDir()
	fail := filepath.Join(dir, "fail")
	tpl := newTemplate(t, dir, `v={{ key "a" }}`,
		fmt.Sprintf("exec >&2; echo signal sent; echo; echo; test ! -e %s || { echo refused by target; exit 3; }", fail))
	var logs syncBuffer
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs), MinReloadInterval: -1})
	start(t, a)
	w.set(keyA, "one")
	testkit.WaitFor(t, 5*time.Second, "the reload", func() bool { return logLine(logs.String(), `msg="command ran"`) != "" })
	if l := logLine(logs.String(), `msg="command output"`); !strings.Contains(l, "level=INFO") || !strings.Contains(l, `output="signal sent"`) {
		t.Errorf("output line %q: want INFO with output=\"signal sent\"", l)
	}
	mustWriteFile(t, fail, "")
	w.set(keyA, "two")
	testkit.WaitFor(t, 5*time.Second, "the failure", func() bool { return logLine(logs.String(), `msg="reload failed"`) != "" })
	if l := logLine(logs.String(), `msg="reload failed"`); !strings.Contains(l, "level=ERROR") ||
		!strings.Contains(l, `output="signal sent | refused by target"`) {
		t.Errorf("failure line %q: want ERROR with the output on one line", l)
	}
	if l := logLine(logs.String(), "level=INFO", `refused by target"`); l != "" {
		t.Errorf("a failed command's output at INFO: %s", l)
	}
}

// runUntilStopped runs a until the returned stop is called, which waits for
// Run to return.
func runUntilStopped(t *testing.T, a *renderer.Agent) (stop func()) {
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestOwedReloadRunsBeforeTheAgentStops(t *testing.T) {
	dir := t.TempDir()
	reloads := filepath.Join(dir, "reloads")
	tpl := newTemplate(t, dir, `v={{ key "a" }}`, fmt.Sprintf(`cat %s >> %s; echo >> %s`, filepath.Join(dir, "out.conf"), reloads, reloads))
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet, MinReloadInterval: time.Hour})
	stop := runUntilStopped(t, a)
	w.set(keyA, "one")
	testkit.WaitFor(t, 5*time.Second, "the first reload (leading edge)", func() bool { return lines(reloads) == 1 })
	w.set(keyA, "two")
	testkit.WaitFor(t, 5*time.Second, "two written", fileIs(tpl.Dest, "v=two"))
	stop() // the reload of two is owed for another hour
	if b, _ := os.ReadFile(reloads); string(b) != "v=one\nv=two\n" {
		t.Fatalf("reloads saw %q: the reload owed for v=two did not run before Run returned", b)
	}
}

func TestOwedReloadThatFailsAtStopIsKeptInStateDir(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "missing", "state")
	reloads, block := filepath.Join(dir, "reloads"), filepath.Join(dir, "block")
	tpl := newTemplate(t, dir, `v={{ key "a" }}`, fmt.Sprintf(`test ! -e %s && echo run >> %s`, block, reloads))
	w := newFakeWatcher()
	opts := renderer.Options{Logger: quiet, MinReloadInterval: time.Hour, StateDir: state}
	a := renderer.New([]renderer.Template{tpl}, w, opts)
	stop := runUntilStopped(t, a)
	w.set(keyA, "one")
	testkit.WaitFor(t, 5*time.Second, "the state dir", func() bool { _, err := os.Stat(state); return err == nil })
	if fi, err := os.Stat(state); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("state dir: %v, %v; want created with mode 0700", fi, err)
	}
	testkit.WaitFor(t, 5*time.Second, "the first reload", func() bool { return lines(reloads) == 1 })
	mustWriteFile(t, block, "")
	w.set(keyA, "two")
	testkit.WaitFor(t, 5*time.Second, "two written", fileIs(tpl.Dest, "v=two"))
	stop() // the owed reload runs and fails
	owed, _ := os.ReadFile(filepath.Join(state, "owed-reloads.json"))
	if !strings.Contains(string(owed), "echo run") {
		t.Fatalf("owed reloads %q after a failed reload at stop, want the command kept", owed)
	}
	// The last status (status.json is written from it) says what the stop did.
	if st := stateOf(a, 0); st.State != renderer.StateDegraded {
		t.Errorf("state after the reload failed at stop: %q (%s), want degraded", st.State, st.Reason)
	}
	os.Remove(block)
	w2 := newFakeWatcher()
	w2.set(keyA, "two")
	start(t, renderer.New([]renderer.Template{tpl}, w2, opts))
	testkit.WaitFor(t, 5*time.Second, "the owed reload at the next start", func() bool { return lines(reloads) == 2 })
}

func TestStartupProgress(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `{{ key "a" }}{{ key "b" }}{{ key "c" }}`, "")
	w := newFakeWatcher()
	var logs syncBuffer
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs), ProgressInterval: time.Millisecond})
	start(t, a)
	w.set(keyA, "x")
	testkit.WaitFor(t, 5*time.Second, "2 of 3 waiting", func() bool { st := a.Status(); return st.Queries == 3 && st.Waiting == 2 })
	testkit.WaitFor(t, 5*time.Second, "the progress line", func() bool {
		return logLine(logs.String(), `msg="waiting for 2 of 3 queries"`, "templates_pending=1") != ""
	})
	w.set("kv.get(b)", "y")
	w.set("kv.get(c)", "z")
	testkit.WaitFor(t, 5*time.Second, "rendered", fileIs(tpl.Dest, "xyz"))
	testkit.WaitFor(t, 5*time.Second, "none waiting", func() bool { return a.Status().Waiting == 0 })
}

func TestCheckErrorIsOneLine(t *testing.T) {
	dir := t.TempDir()
	tpl := newTemplate(t, dir, `v={{ key "a" }}`, "")
	tpl.Check = renderer.ParseCommand("printf 'nginx: [emerg] one\\nnginx: test failed\\n'; exit 1")
	w := newFakeWatcher()
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: quiet})
	start(t, a)
	w.set(keyA, "x")
	testkit.WaitFor(t, 5*time.Second, "held", func() bool { return stateOf(a, 0).State == renderer.StateHeld })
	if r := stateOf(a, 0).Reason; strings.Contains(r, "\n") || !strings.Contains(r, "nginx: [emerg] one | nginx: test failed") {
		t.Errorf("reason %q: want the output on one line", r)
	}
}
