package examples_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// envRequireTargets, set to 1 (as .ci/run does), turns a missing nginx,
// haproxy or dnsmasq from a skip into a failure.
const envRequireTargets = "CTPL_REQUIRE_TARGETS"

// envShowLogs, set to 1, logs the output of every program a test ran, not
// only of a failed test's.
const envShowLogs = "CTPL_EXAMPLES_LOGS"

// poll is how often the tests re-check a condition they wait for.
const poll = 5 * time.Millisecond

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBuilds()
	os.Exit(code)
}

// requireTarget finds program on PATH or in the sbin directories, and skips
// the test when it is missing unless CTPL_REQUIRE_TARGETS=1.
func requireTarget(t *testing.T, program, debianPackage string) string {
	t.Helper()
	if p, err := exec.LookPath(program); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin", "/usr/local/sbin"} {
		p := filepath.Join(dir, program)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	msg := fmt.Sprintf("%s is not installed (Debian package %s; .ci/run installs it)", program, debianPackage)
	if os.Getenv(envRequireTargets) == "1" {
		t.Fatalf("%s [%s=1 makes this a failure]", msg, envRequireTargets)
	}
	t.Skip(msg)
	return ""
}

// freePorts returns n free ports on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ps, err := consultest.FreePorts(n)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// proc is a program a test runs, its output in a log file.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	err     error         // cmd.Wait's result, set before done is closed
}

// startProc runs bin with args in a process group of its own; the test's
// cleanup sends stop to it, waits, and kills the group after 10 s. When the
// test has failed, the cleanup logs the end of the output.
func startProc(t *testing.T, name string, env []string, stop syscall.Signal, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, logPath: filepath.Join(t.TempDir(), name+".log"), done: make(chan struct{})}
	logf, err := os.Create(p.logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close() // the child holds its own descriptor
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(stop)
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not stop within 10 s of %v; killing it", name, stop)
			_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
		if t.Failed() || os.Getenv(envShowLogs) == "1" {
			t.Logf("%s output (%s):\n%s", name, p.logPath, p.tail(400))
		}
	})
	return p
}

// running fails the test when the process has exited.
func (p *proc) running(t *testing.T) {
	t.Helper()
	select {
	case <-p.done:
		t.Fatalf("%s exited (%v):\n%s", p.name, p.err, p.tail(40))
	default:
	}
}

// output returns everything the process has written so far.
func (p *proc) output() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

func (p *proc) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.output(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// children returns the IDs of the process's child processes.
func (p *proc) children() map[int]bool {
	pid := strconv.Itoa(p.cmd.Process.Pid)
	out := map[int]bool{}
	// Cheap where the kernel offers it (CONFIG_PROC_CHILDREN); the masters
	// of nginx and HAProxy fork from their main thread.
	if b, err := os.ReadFile(filepath.Join("/proc", pid, "task", pid, "children")); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out[c] = true
			}
		}
		return out
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces and parentheses.
		rest := stat[bytes.LastIndexByte(stat, ')')+1:]
		if f := strings.Fields(string(rest)); len(f) > 1 && f[1] == pid {
			out[child] = true
		}
	}
	return out
}

// waitListening waits until p accepts TCP connections on addr.
func waitListening(t *testing.T, p *proc, addr string) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, p.name+" listening on "+addr, func() bool {
		p.running(t)
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// install copies a shipped recipe file to dst, replacing each old string of
// pairs (old, new, old, new, …) by its new one. Every old string must occur,
// so a recipe cannot drift away from what its test exercises.
func install(t *testing.T, src, dst string, pairs ...string) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("install %s: %q does not occur in it", src, pairs[i])
		}
		s = strings.ReplaceAll(s, pairs[i], pairs[i+1])
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// abs returns the absolute path of a file of the recipes.
func abs(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.FromSlash(rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// startCtpl runs the ctpl binary with config against the agent, with dir
// (where the target's programs live) first on PATH.
func startCtpl(t *testing.T, agent *consultest.Agent, config, targetDir string, env ...string) *proc {
	t.Helper()
	env = append(env, "PATH="+targetDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return startProc(t, "ctpl", env, syscall.SIGTERM, testkit.Build(t, "github.com/ctpl/ctpl/cmd/ctpl"),
		"-config", config, "-consul-addr", agent.Addr(), "-log-level", "debug")
}

// logFileOnFailure logs the content of path when the test has failed.
func logFileOnFailure(t *testing.T, path string) {
	if !t.Failed() {
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%v", err)
		return
	}
	t.Logf("%s:\n%s", path, b)
}
