package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
)

// childrenOf lists the child PIDs of pid (from /proc/PID/task/*/children).
func childrenOf(pid int) []int {
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// TestReapsOrphansAsPID1 runs ctpl as PID 1 of a new PID namespace with an
// exec child that leaves an orphan behind; the orphan's zombie is reaped.
func TestReapsOrphansAsPID1(t *testing.T) {
	if err := exec.Command("unshare", "-fp", "--mount-proc", "true").Run(); err != nil {
		t.Skipf("cannot make a PID namespace here (unshare: %v)", err)
	}
	agent, _, tmpl, out := execSetup(t)
	bin := testkit.Build(t, "github.com/ctpl/ctpl/cmd/ctpl")
	stderr := &syncBuffer{}
	cmd := exec.Command("unshare", "-fp", "--mount-proc", bin, "-log-level", "debug",
		"-consul-addr", agent.Addr(), "-template", tmpl+":"+out,
		"-exec", "sh -c '(sleep 0.2 &); exec sleep 1000'")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	var ctpl int
	testkit.WaitFor(t, 10*time.Second, "ctpl inside the namespace", func() bool {
		if c := childrenOf(cmd.Process.Pid); len(c) == 1 {
			ctpl = c[0]
		}
		return ctpl != 0
	})
	t.Cleanup(func() {
		if ctpl > 0 {
			syscall.Kill(ctpl, syscall.SIGKILL) // ends the namespace and all in it
		}
		<-done
		if t.Failed() {
			t.Logf("ctpl log:\n%s", stderr)
		}
	})
	testkit.WaitFor(t, 20*time.Second, "the orphan reaped", func() bool {
		return strings.Contains(stderr.String(), "reaped an orphaned process")
	})
	for _, c := range childrenOf(ctpl) {
		b, _ := os.ReadFile("/proc/" + strconv.Itoa(c) + "/stat")
		if s := string(b); strings.Contains(s[strings.LastIndexByte(s, ')')+1:], " Z ") {
			t.Errorf("zombie child %d left: %s", c, s)
		}
	}
	syscall.Kill(ctpl, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("ctpl as PID 1 did not stop on SIGTERM")
	}
	if !strings.Contains(stderr.String(), "ctpl stopped") {
		t.Error("ctpl did not stop gracefully")
	}
}
