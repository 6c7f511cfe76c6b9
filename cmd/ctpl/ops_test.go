package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/notify/notifytest"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestSystemdNotifyProtocol runs the ctpl binary under a stand-in systemd:
// READY=1 only once the template is on disk, WATCHDOG=1 pings, RELOADING=1
// then READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
func TestSystemdNotifyProtocol(t *testing.T) {
	agent := consultest.Start(t)
	sock := notifytest.Listen(t)
	t.Setenv("WATCHDOG_USEC", "2000000") // pings every 500ms
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `v={{ key "v" }}`)
	out := filepath.Join(dir, "out")
	p := startProcess(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)

	waitFor(t, 10*time.Second, "the agent to wait for the key", func() bool {
		return strings.Contains(p.stderr.String(), "ctpl running")
	})
	sock.WaitFor(t, 0, "WATCHDOG=1", 10*time.Second)
	if n := sock.Count("READY=1"); n != 0 {
		t.Fatalf("READY=1 sent before the template could render: %q", sock.Messages())
	}
	agent.PutKV(t, "v", "1")
	ready := sock.WaitFor(t, 0, "READY=1", 10*time.Second)
	if b, err := os.ReadFile(out); err != nil || string(b) != "v=1" {
		t.Fatalf("READY=1 before the file was rendered: %q, %v", b, err)
	}
	if msg := sock.Messages()[ready]; !strings.Contains(msg, "STATUS=1 templates, 1 queries") {
		t.Errorf("READY message %q lacks the status counts", msg)
	}
	sock.WaitFor(t, ready+1, "WATCHDOG=1", 10*time.Second)

	p.cmd.Process.Signal(syscall.SIGHUP)
	reloading := sock.WaitFor(t, ready+1, "RELOADING=1", 10*time.Second)
	sock.WaitFor(t, reloading+1, "READY=1", 10*time.Second)

	p.cmd.Process.Signal(syscall.SIGTERM)
	sock.WaitFor(t, reloading+1, "STOPPING=1", 10*time.Second)
	if code, _ := p.exit(t, 10*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// stallTicks is an observer that blocks the agent loop in Tick while stall
// is set, as a stuck render would.
type stallTicks struct {
	renderer.Observer
	stall   *atomic.Bool
	release chan struct{}
}

func (s stallTicks) Tick() {
	if s.stall.Load() {
		<-s.release
	}
	s.Observer.Tick()
}

// TestWatchdogStopsWhenTheLoopIsStuck blocks the real agent loop and checks
// the WATCHDOG=1 pings stop, then resume when it runs again.
func TestWatchdogStopsWhenTheLoopIsStuck(t *testing.T) {
	agent := consultest.Start(t)
	agent.PutKV(t, "v", "1")
	sock := notifytest.Listen(t)
	t.Setenv("WATCHDOG_USEC", "1000000") // pings every 250ms while ticks are under 2s old
	var stall atomic.Bool
	release := make(chan struct{})
	observerHook = func(o renderer.Observer) renderer.Observer {
		return stallTicks{Observer: o, stall: &stall, release: release}
	}
	t.Cleanup(func() { observerHook = nil })
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `v={{ key "v" }}`)
	out := filepath.Join(dir, "out")
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	sock.WaitFor(t, 0, "READY=1", 10*time.Second)
	sock.WaitFor(t, 0, "WATCHDOG=1", 10*time.Second)

	stall.Store(true)
	waitFor(t, 10*time.Second, "the stall to be noticed", func() bool {
		return strings.Contains(d.stderr.String(), "agent loop stuck")
	})
	stuckAt := sock.Count("WATCHDOG=1")
	// While stuck, a second passes (four ping periods) without a ping.
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		if n := sock.Count("WATCHDOG=1"); n != stuckAt {
			t.Fatalf("watchdog pinged while the loop was stuck (%d → %d)", stuckAt, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stall.Store(false)
	close(release)
	sock.WaitFor(t, len(sock.Messages()), "WATCHDOG=1", 10*time.Second)
	d.running(t)
}

var listenerRe = regexp.MustCompile(`listener up.*addr=(127\.0\.0\.1:\d+)`)

// metricsAddr waits for the daemon's listener and returns its address.
func metricsAddr(t *testing.T, log func() string) string {
	t.Helper()
	var addr string
	waitFor(t, 10*time.Second, "the metrics listener", func() bool {
		m := listenerRe.FindStringSubmatch(log())
		if m != nil {
			addr = m[1]
		}
		return m != nil
	})
	return addr
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestMetricsAfterRenderAndReload scrapes the listener after a render and
// reload cycle, then reads the same state through `ctpl status`.
func TestMetricsAfterRenderAndReload(t *testing.T) {
	agent := consultest.Start(t)
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), upstreamTmpl)
	out, reloads := filepath.Join(dir, "web.conf"), filepath.Join(dir, "reloads")
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-metrics-addr", "127.0.0.1:0",
		"-template", tmpl+":"+out+":echo reload >> "+reloads)
	addr := metricsAddr(t, d.stderr.String)
	waitFor(t, 10*time.Second, "first reload", func() bool { return countLines(reloads) == 1 })
	agent.RegisterService(t, webInstance("web1", 8080, "passing"))
	waitFor(t, 10*time.Second, "second reload", func() bool { return countLines(reloads) == 2 })

	base := "http://" + addr
	var body string
	waitFor(t, 10*time.Second, "the reload counted", func() bool {
		_, body = httpGet(t, base+"/metrics")
		return strings.Contains(body, `ctpl_commands_total{kind="reload",result="ok",template="`+tmpl+`"} 2`)
	})
	for _, want := range []string{
		`ctpl_renders_total{result="written",template="` + tmpl + `"} 2`,
		`ctpl_template_state{dest="` + out + `",state="ok",template="` + tmpl + `"} 1`,
		`ctpl_last_success_timestamp_seconds{event="reload"}`,
		`ctpl_ready 1`,
		`ctpl_consul_requests_total{code="200",endpoint="/v1/health/service"}`,
		`ctpl_watched_queries 1`,
		`ctpl_build_info{`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if !regexp.MustCompile(`(?m)^ctpl_consul_open_connections [1-9]`).MatchString(body) {
		t.Error("/metrics shows no open connection to Consul")
	}
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d", code)
	}
	if code, b := httpGet(t, base+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %s", code, b)
	}

	var stdout, stderr syncBuffer
	if code := run(t.Context(), []string{"status", "-addr", addr}, &stdout, &stderr); code != 0 {
		t.Fatalf("ctpl status = %d: %s", code, stderr.String())
	}
	table := stdout.String()
	t.Logf("ctpl status:\n%s", table)
	if !regexp.MustCompile(regexp.QuoteMeta(tmpl) + `\s+` + regexp.QuoteMeta(out) + `\s+ok\s`).MatchString(table) {
		t.Errorf("status table lacks the template's row")
	}
	stdout = syncBuffer{}
	if code := run(t.Context(), []string{"status", "-addr", addr, "-format", "json"}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), `"state": "ok"`) {
		t.Errorf("ctpl status -format json = %d %s", code, stdout.String())
	}
	d.running(t)
}
