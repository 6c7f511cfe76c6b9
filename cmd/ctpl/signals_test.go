package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// process is ctpl running as a child process.
type process struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{stderr: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(testkit.Build(t, "github.com/ctpl/ctpl/cmd/ctpl"), args...)
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("ctpl log:\n%s", p.stderr)
		}
	})
	return p
}

// exit waits for the process to end and returns how long it took.
func (p *process) exit(t *testing.T, within time.Duration) (int, time.Duration) {
	t.Helper()
	began := time.Now()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode(), time.Since(began)
	case <-time.After(within):
		t.Fatalf("ctpl still running after %v", within)
		return 0, 0
	}
}

func TestSignalsStopGracefully(t *testing.T) {
	agent := consultest.Start(t)
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), upstreamTmpl)
	out := filepath.Join(dir, "out")
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			os.Remove(out)
			p := startProcess(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
			testkit.WaitFor(t, 5*time.Second, "first render", contains(out, "upstream"))
			p.cmd.Process.Signal(sig)
			code, took := p.exit(t, 5*time.Second)
			if code != 0 {
				t.Fatalf("exit %d after %v, want 0", code, sig)
			}
			t.Logf("stopped %v after %v", took, sig)
		})
	}
}

func TestSIGHUPReloadsAndKeepsOldOnError(t *testing.T) {
	agent := consultest.Start(t)
	agent.PutKV(t, "v", "x")
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `one {{ key "v" }}`)
	out := filepath.Join(dir, "out")
	p := startProcess(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	testkit.WaitFor(t, 5*time.Second, "first render", contains(out, "one x"))

	writeFile(t, tmpl, `two {{ key "v" }}`)
	p.cmd.Process.Signal(syscall.SIGHUP)
	testkit.WaitFor(t, 5*time.Second, "the reloaded template", contains(out, "two x"))

	writeFile(t, tmpl, `three {{ key "v" `)
	p.cmd.Process.Signal(syscall.SIGHUP)
	testkit.WaitFor(t, 5*time.Second, "the reload error", func() bool {
		return strings.Contains(p.stderr.String(), "keeping the running one")
	})
	agent.PutKV(t, "v", "y")
	testkit.WaitFor(t, 5*time.Second, "the old template still running", contains(out, "two y"))
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code, _ := p.exit(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
