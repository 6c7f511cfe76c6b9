package supervise_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/supervise"
)

// harness runs a supervisor for one test and stops it in cleanup.
type harness struct {
	s      *supervise.Supervisor
	cancel context.CancelFunc
	wg     sync.WaitGroup
	err    error
	dir    string
}

func start(t *testing.T, script string, mod func(*supervise.Options)) *harness {
	t.Helper()
	dir := t.TempDir()
	opts := supervise.Options{
		Args:        []string{"/bin/sh", "-c", script},
		Env:         []string{"OUT=" + dir, "PATH=" + os.Getenv("PATH")},
		KillTimeout: 5 * time.Second,
		BackoffMin:  20 * time.Millisecond, BackoffMax: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
	if mod != nil {
		mod(&opts)
	}
	h := &harness{s: supervise.New(opts), dir: dir}
	ctx, cancel := context.WithCancel(t.Context())
	h.cancel = cancel
	h.wg.Go(func() { h.err = h.s.Run(ctx) })
	t.Cleanup(h.stop)
	h.s.Start()
	return h
}

func (h *harness) stop() { h.cancel(); h.wg.Wait() }

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func lines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

func TestKillTimeoutKillsAChildIgnoringSIGTERM(t *testing.T) {
	// The shell ignores TERM and so does its background sleep: only SIGKILL
	// of the whole group ends them.
	script := `trap '' TERM; sleep 1000 & echo $! > "$OUT/grandchild"; echo ready > "$OUT/ready"; wait; wait`
	h := start(t, script, func(o *supervise.Options) { o.KillTimeout = 300 * time.Millisecond })
	testkit.WaitFor(t, 10*time.Second, "the child to start", func() bool { return len(lines(filepath.Join(h.dir, "ready"))) > 0 })
	pid := h.s.PID()
	g, _ := strconv.Atoi(lines(filepath.Join(h.dir, "grandchild"))[0])
	if !alive(pid) || !alive(g) {
		t.Fatalf("child %d or grandchild %d not running", pid, g)
	}
	began := time.Now()
	h.stop()
	if took := time.Since(began); took < 300*time.Millisecond {
		t.Errorf("stopped after %v, before the kill timeout: did the child not ignore SIGTERM?", took)
	}
	if h.err != nil {
		t.Errorf("Run = %v", h.err)
	}
	testkit.WaitFor(t, 10*time.Second, "no process left", func() bool { return !alive(pid) && !alive(g) })
}

func TestDeadChildIsRestartedWithBackoff(t *testing.T) {
	h := start(t, `echo $$ >> "$OUT/starts"; exit 3`, nil)
	path := filepath.Join(h.dir, "starts")
	// A child can write its pid before Start returns to the supervisor, so
	// the count is waited for, not read once.
	testkit.WaitFor(t, 10*time.Second, "three starts counted", func() bool { return len(lines(path)) >= 3 && h.s.Starts() >= 3 })
	pids := lines(path)
	if pids[0] == pids[1] {
		t.Errorf("restart reused pid %s", pids[0])
	}
}

func TestExitWithChildReturnsItsCode(t *testing.T) {
	h := start(t, `exit 7`, func(o *supervise.Options) { o.ExitWithChild = true })
	h.wg.Wait()
	var ee *supervise.ExitError
	if !errors.As(h.err, &ee) || ee.ExitCode() != 7 {
		t.Fatalf("Run = %v, want exit code 7", h.err)
	}
}

const trapScript = `trap 'echo hup >> "$OUT/events"' HUP; trap 'echo usr1 >> "$OUT/events"' USR1;
echo $$ >> "$OUT/pids"; while :; do sleep 0.05; done`

func TestChangeSignalsWithoutRestart(t *testing.T) {
	h := start(t, trapScript, func(o *supervise.Options) { o.ReloadSignal = syscall.SIGHUP })
	pids := filepath.Join(h.dir, "pids")
	testkit.WaitFor(t, 10*time.Second, "the child", func() bool { return len(lines(pids)) == 1 })
	h.s.Changed(supervise.ActionSignal)
	testkit.WaitFor(t, 10*time.Second, "the reload signal", func() bool { return len(lines(filepath.Join(h.dir, "events"))) == 1 })
	h.s.Signal(syscall.SIGUSR1)
	testkit.WaitFor(t, 10*time.Second, "the forwarded signal", func() bool { return len(lines(filepath.Join(h.dir, "events"))) == 2 })
	if got := lines(filepath.Join(h.dir, "events")); got[0] != "hup" || got[1] != "usr1" {
		t.Errorf("events = %q", got)
	}
	if got := lines(pids); len(got) != 1 || h.s.Starts() != 1 {
		t.Errorf("child restarted: pids %q, starts %d", got, h.s.Starts())
	}
}

func TestChangeRestartsWhenAskedOrWithoutReloadSignal(t *testing.T) {
	tests := []struct {
		name   string
		reload syscall.Signal
		action supervise.Action
	}{
		{name: "no reload signal", reload: 0, action: supervise.ActionSignal},
		{name: "restart action", reload: syscall.SIGHUP, action: supervise.ActionRestart},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, trapScript, func(o *supervise.Options) {
				o.ReloadSignal = tc.reload
				o.Splay = 50 * time.Millisecond
			})
			pids := filepath.Join(h.dir, "pids")
			testkit.WaitFor(t, 10*time.Second, "the child", func() bool { return len(lines(pids)) == 1 })
			first := h.s.PID()
			h.s.Changed(tc.action)
			testkit.WaitFor(t, 10*time.Second, "a restart", func() bool { return len(lines(pids)) == 2 })
			testkit.WaitFor(t, 10*time.Second, "the old child gone", func() bool { return !alive(first) })
			if h.s.Starts() != 2 {
				t.Errorf("Starts() = %d, want 2", h.s.Starts())
			}
		})
	}
}

func TestNothingStartsBeforeStart(t *testing.T) {
	dir := t.TempDir()
	s := supervise.New(supervise.Options{Args: []string{"/bin/sh", "-c", "touch " + dir + "/x"}})
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.Run(ctx) })
	s.Changed(supervise.ActionRestart) // dropped: no child yet
	cancel()
	wg.Wait()
	if s.Starts() != 0 {
		t.Errorf("started %d times without Start", s.Starts())
	}
}

func TestParseAction(t *testing.T) {
	for in, want := range map[string]supervise.Action{"": supervise.ActionSignal, "signal": supervise.ActionSignal,
		"none": supervise.ActionNone, "restart": supervise.ActionRestart} {
		if got, err := supervise.ParseAction(in); err != nil || got != want {
			t.Errorf("ParseAction(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := supervise.ParseAction("reboot"); err == nil {
		t.Error("ParseAction(reboot) did not fail")
	}
}
