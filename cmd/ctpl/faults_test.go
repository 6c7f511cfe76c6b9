package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// faultTmpl ends with a marker line, so a torn file is easy to tell.
const faultTmpl = `upstream web {
{{- range service "web" }}
  server {{ .Address }}:{{ .Port }};
{{- end }}
}
# end
`

var completeUpstream = regexp.MustCompile(`\Aupstream web \{\n(  server [0-9.]+:[0-9]+;\n)+\}\n# end\n\z`)

// fileMonitor reads a file continuously and keeps every content that is not
// a complete render.
type fileMonitor struct {
	stop  chan struct{}
	done  chan struct{}
	mu    sync.Mutex
	reads int
	torn  []string
}

func monitorFile(t *testing.T, path string, valid func([]byte) bool) *fileMonitor {
	m := &fileMonitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			select {
			case <-m.stop:
				return
			case <-time.After(time.Millisecond):
			}
			b, err := os.ReadFile(path)
			m.mu.Lock()
			m.reads++
			if err != nil || !valid(b) {
				m.torn = append(m.torn, fmt.Sprintf("%q (err %v)", b, err))
			}
			m.mu.Unlock()
		}
	}()
	t.Cleanup(m.finish)
	return m
}

func (m *fileMonitor) finish() {
	select {
	case <-m.stop:
	default:
		close(m.stop)
	}
	<-m.done
}

// check stops the monitor and fails the test for any torn read.
func (m *fileMonitor) check(t *testing.T) {
	t.Helper()
	m.finish()
	m.mu.Lock()
	defer m.mu.Unlock()
	t.Logf("%d reads of the destination, %d torn or corrupted", m.reads, len(m.torn))
	for i, s := range m.torn {
		if i == 3 {
			break
		}
		t.Errorf("torn read: %s", s)
	}
}

// TestNetworkFaultsBetweenCtplAndConsul runs ctpl through a proxy that
// stalls, resets and black-holes its connections to Consul.
func TestNetworkFaultsBetweenCtplAndConsul(t *testing.T) {
	agent := consultest.Start(t)
	proxy := startProxy(t, agent.Addr())
	dir := t.TempDir()
	out := filepath.Join(dir, "web.conf")
	tmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), faultTmpl)
	agent.RegisterService(t, webInstance("web1", 8001, "passing"))
	// A short blocking wait bounds how long a black-holed request waits.
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), fmt.Sprintf(`block_query_wait: 5s
templates:
  - source: %s
    destination: %s
`, tmpl, out))
	d := startDaemon(t, "-consul-addr", proxy.Addr(), "-config", cfg)
	testkit.WaitFor(t, 10*time.Second, "first render", contains(out, "10.0.0.1:8001"))
	mon := monitorFile(t, out, completeUpstream.Match)

	for i, mode := range []string{proxyStall, proxyReset, proxyBlackhole} {
		id := fmt.Sprintf("web%d", i+2)
		proxy.set(mode)
		agent.RegisterService(t, webInstance(id, 8002+i, "passing"))
		time.Sleep(3 * time.Second) // the fault lasts 3 s
		d.running(t)
		proxy.set(proxyPass)
		took := testkit.WaitFor(t, 20*time.Second, "convergence after "+mode, contains(out, fmt.Sprintf(":%d;", 8002+i)))
		t.Logf("%s for 3s: converged %v after healing", mode, took)
	}
	mon.check(t)
	d.running(t)
}

// TestConsulOutage kills Consul for 30 s; the dev agent comes back empty.
func TestConsulOutage(t *testing.T) {
	agent := consultest.Start(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "web.conf")
	tmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), faultTmpl)
	agent.RegisterService(t, webInstance("web1", 8001, "passing"))
	agent.RegisterService(t, webInstance("web2", 8002, "passing"))
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	testkit.WaitFor(t, 10*time.Second, "first render", contains(out, "10.0.0.2:8002"))
	mon := monitorFile(t, out, completeUpstream.Match)
	good, _ := os.ReadFile(out)

	outage := 30 * time.Second
	if testing.Short() {
		outage = 5 * time.Second
	}
	agent.Stop()
	time.Sleep(outage) // the fault
	d.running(t)
	agent.Restart(t)
	// The empty catalog of the restarted agent is held, not rendered.
	testkit.WaitFor(t, 10*time.Second, "the empty query held", func() bool {
		return logHas(d.stderr.String(), "level=WARN", "health.service(web)", "no instances")
	})
	if now, _ := os.ReadFile(out); string(now) != string(good) {
		t.Fatalf("the file changed to %q", now)
	}
	agent.RegisterService(t, webInstance("web3", 8003, "passing"))
	took := testkit.WaitFor(t, 10*time.Second, "convergence", contains(out, "10.0.0.3:8003"))
	t.Logf("Consul down %v; converged %v after the re-registration", outage, took)
	mon.check(t)
	d.running(t)
}

// TestFullDestinationFilesystem writes to a small tmpfs that fills up.
func TestFullDestinationFilesystem(t *testing.T) {
	mnt := t.TempDir()
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=64k"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); skipping", err)
	}
	t.Cleanup(func() { syscall.Unmount(mnt, syscall.MNT_DETACH) })
	agent := consultest.Start(t)
	agent.PutKV(t, "blob", strings.Repeat("a", 1000))
	dir := t.TempDir()
	out := filepath.Join(mnt, "blob.conf")
	tmpl := writeFile(t, filepath.Join(dir, "blob.tmpl"), `{{ key "blob" }}`+"\n")
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	testkit.WaitFor(t, 10*time.Second, "first render", contains(out, "aaa"))
	mon := monitorFile(t, out, func(b []byte) bool {
		s := string(b)
		return s == strings.Repeat("a", 1000)+"\n" || s == strings.Repeat("b", 8000)+"\n"
	})

	filler := filepath.Join(mnt, "filler")
	fill(t, filler)
	agent.PutKV(t, "blob", strings.Repeat("b", 8000))
	testkit.WaitFor(t, 10*time.Second, "the write failure logged", func() bool {
		return strings.Contains(d.stderr.String(), "cannot write the destination")
	})
	time.Sleep(2 * time.Second) // several retries while the disk stays full
	d.running(t)
	if b, _ := os.ReadFile(out); string(b) != strings.Repeat("a", 1000)+"\n" {
		t.Fatalf("destination %d bytes while the disk is full, want the old 1001", len(b))
	}
	assertNoTemps(t, mnt)
	if n := strings.Count(d.stderr.String(), "cannot write the destination"); n != 1 {
		t.Errorf("the failure was logged %d times, want once", n)
	}
	os.Remove(filler)
	took := testkit.WaitFor(t, 30*time.Second, "convergence after space is freed", contains(out, "bbb"))
	t.Logf("converged %v after the disk was freed", took)
	mon.check(t)
	d.running(t)
}

// fill writes to path until the filesystem is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}

func assertNoTemps(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), renderer.TempPrefix) {
			t.Errorf("temp file %s left in %s", e.Name(), dir)
		}
	}
}

func temps(dir string) int {
	entries, _ := os.ReadDir(dir)
	n := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), renderer.TempPrefix) {
			n++
		}
	}
	return n
}

// TestSIGKILLDuringRender kills ctpl while a check holds a staged file and a
// reload has not finished, then restarts it.
func TestSIGKILLDuringRender(t *testing.T) {
	agent := consultest.Start(t)
	agent.PutKV(t, "a", "1")
	agent.PutKV(t, "b", "1")
	dir := t.TempDir()
	runs, release := filepath.Join(dir, "runs"), filepath.Join(dir, "release")
	// Blocks until the test releases it, or ends if the test is gone (the
	// processes outlive the killed ctpl).
	block := fmt.Sprintf("while ! test -f %s; do test -d %s || exit 1; sleep 0.05; done", release, dir)
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), fmt.Sprintf(`state_dir: %[1]s/state
templates:
  - contents: '{{ key "a" }}'
    destination: %[1]s/a.conf
    command: "echo run >> %[2]s; %[3]s"
  - contents: '{{ key "b" }}'
    destination: %[1]s/b.conf
    check: %[3]q
`, dir, runs, block))
	args := []string{"-consul-addr", agent.Addr(), "-config", cfg}
	p := startProcess(t, args...)
	testkit.WaitFor(t, 10*time.Second, "b staged and checking", func() bool { return temps(dir) == 1 })
	testkit.WaitFor(t, 5*time.Second, "a activated", contains(filepath.Join(dir, "a.conf"), "1"))
	testkit.WaitFor(t, 5*time.Second, "a's reload running", func() bool { return countLines(runs) == 1 })
	owed := filepath.Join(dir, "state", "owed-reloads.json")
	if !contains(owed, "echo run")() {
		t.Fatalf("the owed reload is not recorded: %q", readString(owed))
	}
	p.cmd.Process.Kill()
	p.exit(t, 5*time.Second)
	if n := temps(dir); n != 1 {
		t.Fatalf("%d temp files after SIGKILL, want the staged one", n)
	}

	writeFile(t, release, "")
	p2 := startProcess(t, args...)
	// a's content is unchanged: only the record makes the reload run again.
	testkit.WaitFor(t, 10*time.Second, "the owed reload run after restart", func() bool { return countLines(runs) == 2 })
	testkit.WaitFor(t, 10*time.Second, "b rendered", contains(filepath.Join(dir, "b.conf"), "1"))
	testkit.WaitFor(t, 5*time.Second, "nothing owed", func() bool { return strings.TrimSpace(readString(owed)) == "[]" })
	assertNoTemps(t, dir)
	if !strings.Contains(p2.stderr.String(), "removed a temp file left by an earlier run") {
		t.Error("the stale temp file was not reported as removed")
	}
}
