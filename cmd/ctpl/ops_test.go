package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
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

	testkit.WaitFor(t, 10*time.Second, "the agent to wait for the key", func() bool {
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
	var releaseOnce sync.Once
	unstall := func() { stall.Store(false); releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(func() { observerHook = nil })
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `v={{ key "v" }}`)
	out := filepath.Join(dir, "out")
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	t.Cleanup(unstall) // runs before the daemon's cleanup, so a failed test still stops it
	sock.WaitFor(t, 0, "READY=1", 10*time.Second)
	sock.WaitFor(t, 0, "WATCHDOG=1", 10*time.Second)

	stall.Store(true)
	testkit.WaitFor(t, 10*time.Second, "the stall to be noticed", func() bool {
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
	unstall()
	sock.WaitFor(t, len(sock.Messages()), "WATCHDOG=1", 10*time.Second)
	d.running(t)
}

var listenerRe = regexp.MustCompile(`listener up.*addr=(127\.0\.0\.1:\d+)`)

// metricsAddr waits for the daemon's listener and returns its address.
func metricsAddr(t *testing.T, log func() string) string {
	t.Helper()
	var addr string
	testkit.WaitFor(t, 10*time.Second, "the metrics listener", func() bool {
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
	state := filepath.Join(dir, "state")
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), "state_dir: "+state+"\n")
	d := startDaemon(t, "-config", cfg, "-consul-addr", agent.Addr(), "-metrics-addr", "127.0.0.1:0",
		"-template", tmpl+":"+out+":echo reload >> "+reloads)
	addr := metricsAddr(t, d.stderr.String)
	testkit.WaitFor(t, 10*time.Second, "first reload", func() bool { return countLines(reloads) == 1 })
	agent.RegisterService(t, webInstance("web1", 8080, "passing"))
	testkit.WaitFor(t, 10*time.Second, "second reload", func() bool { return countLines(reloads) == 2 })

	base := "http://" + addr
	var body string
	testkit.WaitFor(t, 10*time.Second, "the reload counted", func() bool {
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
	rowRe := regexp.MustCompile(regexp.QuoteMeta(tmpl) + `\s+` + regexp.QuoteMeta(out) + `\s+ok\s+\S+ ago\s+\S+ ago\s+\S+ ago`)
	testkit.WaitFor(t, 10*time.Second, "status.json in the state directory", func() bool {
		stdout = syncBuffer{}
		return run(t.Context(), []string{"status", "-state-dir", state}, &stdout, io.Discard) == 0 &&
			rowRe.MatchString(stdout.String())
	})
	stdout = syncBuffer{}
	if code := run(t.Context(), []string{"status", "-addr", addr, "-format", "json"}, &stdout, &stderr); code != 0 ||
		!strings.Contains(stdout.String(), `"state": "ok"`) {
		t.Errorf("ctpl status -format json = %d %s", code, stdout.String())
	}
	d.running(t)

	// Once ctpl has stopped, the status file says so: not "ready".
	d.cancel()
	code := <-d.done
	d.done <- code
	stdout = syncBuffer{}
	if code := run(t.Context(), []string{"status", "-state-dir", state}, &stdout, &stderr); code != statusNotReady ||
		!strings.HasPrefix(stdout.String(), "ctpl "+version+": STOPPED (report ") ||
		!regexp.MustCompile(regexp.QuoteMeta(out)+`\s+ok\s`).MatchString(stdout.String()) {
		t.Errorf("ctpl status after the stop = %d, want %d, STOPPED and the last states:\n%s", code, statusNotReady, stdout.String())
	}
}

// TestReadyzTurnsUnreadyWhenConsulIsGone stops Consul and checks /readyz
// fails once the data is older than ready_max_data_age, then recovers.
func TestReadyzTurnsUnreadyWhenConsulIsGone(t *testing.T) {
	agent := consultest.Start(t)
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), upstreamTmpl)
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), `
metrics_addr: 127.0.0.1:0
ready_max_data_age: 2s
consul: {retry: {backoff: 100ms, max_backoff: 500ms}}
`)
	out := filepath.Join(dir, "web.conf")
	d := startDaemon(t, "-config", cfg, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	base := "http://" + metricsAddr(t, d.stderr.String)
	testkit.WaitFor(t, 10*time.Second, "ready", func() bool { code, _ := httpGet(t, base+"/readyz"); return code == 200 })

	stopped := time.Now() // the first errors come while Stop waits for the agent to exit
	agent.Stop()
	var body string
	testkit.WaitFor(t, 20*time.Second, "unready", func() bool {
		var code int
		code, body = httpGet(t, base+"/readyz")
		return code == http.StatusServiceUnavailable
	})
	// The first failure comes at once, refused connections: the data turns
	// too old 2s later.
	if took := time.Since(stopped); took < 2*time.Second {
		t.Errorf("unready %v after Consul stopped, before ready_max_data_age", took)
	}
	if !strings.Contains(body, "health.service(web)") {
		t.Errorf("/readyz body does not name the stale query:\n%s", body)
	}
	if code, _ := httpGet(t, base+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d during the outage: the process is alive", code)
	}
	_, metrics := httpGet(t, base+"/metrics")
	if !strings.Contains(metrics, `ctpl_query_failing{query="health.service(web)"} 1`) {
		t.Error("/metrics does not show the failing query")
	}

	agent.Restart(t)
	testkit.WaitFor(t, 20*time.Second, "ready again", func() bool { code, _ := httpGet(t, base+"/readyz"); return code == 200 })
	d.running(t)
}

// execSetup starts Consul and writes a template whose output follows the
// key "v".
func execSetup(t *testing.T) (*consultest.Agent, string, string, string) {
	t.Helper()
	agent := consultest.Start(t)
	agent.PutKV(t, "v", "1")
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `v={{ key "v" }}`)
	return agent, dir, tmpl, filepath.Join(dir, "out")
}

// childScript records each start (its pid, the rendered file as it found
// it) and each HUP and USR1, and ignores TERM when told to.
const childScript = `#!/bin/sh
[ -n "$IGNORE_TERM" ] && trap '' TERM
trap 'echo hup >> "$DIR/events"' HUP
trap 'echo usr1 >> "$DIR/events"' USR1
cat "$DIR/out" > "$DIR/seen.$$"
env > "$DIR/env.$$"
sleep 1000 &
echo $! >> "$DIR/grandchildren"
echo $$ >> "$DIR/pids"
while :; do wait; done
`

func readLines(path string) []string {
	b, _ := os.ReadFile(path)
	return strings.Fields(string(b))
}

func pidAlive(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}

func TestExecModeSupervisesTheChild(t *testing.T) {
	agent, dir, tmpl, out := execSetup(t)
	script := writeFile(t, filepath.Join(dir, "child.sh"), childScript)
	os.Chmod(script, 0o755)
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), `
exec:
  command: [`+script+`]
  reload_signal: SIGHUP
  kill_timeout: 500ms
  restart_backoff: {min: 50ms, max: 200ms}
  env: {custom: [DIR=`+dir+`, IGNORE_TERM=1]}
`)
	t.Setenv("CONSUL_HTTP_TOKEN", "not-for-the-child")
	p := startProcess(t, "-config", cfg, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out,
		"-metrics-addr", "127.0.0.1:0")
	base := "http://" + metricsAddr(t, p.stderr.String)
	pids := filepath.Join(dir, "pids")
	testkit.WaitFor(t, 10*time.Second, "the child", func() bool { return len(readLines(pids)) == 1 })
	first := readLines(pids)[0]
	if seen, _ := os.ReadFile(filepath.Join(dir, "seen."+first)); string(seen) != "v=1" {
		t.Errorf("the child started before the first render: it saw %q", seen)
	}
	env, _ := os.ReadFile(filepath.Join(dir, "env."+first))
	for _, banned := range []string{"CONSUL_HTTP_TOKEN", "NOTIFY_SOCKET"} {
		if strings.Contains(string(env), banned+"=") {
			t.Errorf("the child's environment has %s", banned)
		}
	}

	t.Run("a rendered change sends the reload signal", func(t *testing.T) {
		agent.PutKV(t, "v", "2")
		testkit.WaitFor(t, 10*time.Second, "the HUP", func() bool { return len(readLines(filepath.Join(dir, "events"))) == 1 })
	})
	t.Run("SIGHUP reloads ctpl, not the child", func(t *testing.T) {
		p.cmd.Process.Signal(syscall.SIGHUP)
		testkit.WaitFor(t, 10*time.Second, "the reload", func() bool {
			return strings.Contains(p.stderr.String(), "configuration reloaded")
		})
		p.cmd.Process.Signal(syscall.SIGUSR1) // forwarded: proves the child is reachable
		testkit.WaitFor(t, 10*time.Second, "the forwarded USR1", func() bool {
			ev := readLines(filepath.Join(dir, "events"))
			return len(ev) > 0 && ev[len(ev)-1] == "usr1"
		})
		if got := readLines(pids); len(got) != 1 {
			t.Fatalf("the child was restarted by SIGHUP: pids %q", got)
		}
		if got := readLines(filepath.Join(dir, "events")); len(got) != 2 {
			t.Errorf("the child got SIGHUP'd by ctpl's reload: events %q", got)
		}
	})
	t.Run("a dead child is restarted", func(t *testing.T) {
		pid := readLines(pids)[0]
		syscall.Kill(atoi(t, pid), syscall.SIGKILL)
		testkit.WaitFor(t, 10*time.Second, "a new child", func() bool { return len(readLines(pids)) == 2 })
		if l := p.stderr.String(); !strings.Contains(l, "restart_in=") || strings.Contains(l, " after=") {
			t.Errorf("the restart line must say restart_in=, not after= (read as \"exited after\"):\n%s", l)
		}
		second := readLines(pids)[1]
		testkit.WaitFor(t, 10*time.Second, "the restart in /status and /metrics", func() bool {
			_, status := httpGet(t, base+"/status")
			_, metrics := httpGet(t, base+"/metrics")
			return strings.Contains(status, `"pid": `+second) && strings.Contains(status, `"starts": 2`) &&
				strings.Contains(metrics, "ctpl_exec_child_starts_total 2")
		})
	})
	t.Run("SIGTERM stops a child that ignores SIGTERM after kill_timeout", func(t *testing.T) {
		began := time.Now()
		p.cmd.Process.Signal(syscall.SIGTERM)
		code, _ := p.exit(t, 10*time.Second)
		if code != 0 {
			t.Errorf("exit %d", code)
		}
		if took := time.Since(began); took < 500*time.Millisecond {
			t.Errorf("ctpl exited after %v, before kill_timeout", took)
		}
		l := p.stderr.String()
		killed, stopped := strings.Index(l, "child ignored the kill signal"), strings.Index(l, `msg="ctpl stopped"`)
		ended := strings.Index(l, `msg="child stopped"`)
		if killed < 0 || ended < killed || stopped < ended {
			t.Errorf("\"ctpl stopped\" (at %d) must follow the child's end (at %d, %d):\n%s", stopped, killed, ended, l)
		}
		all := append(readLines(pids), readLines(filepath.Join(dir, "grandchildren"))...)
		testkit.WaitFor(t, 5*time.Second, "no process left behind", func() bool {
			for _, pid := range all {
				if pidAlive(pid) {
					return false
				}
			}
			return true
		})
	})
}

func TestExecOnExitPassesTheCode(t *testing.T) {
	agent, dir, tmpl, out := execSetup(t)
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), `
exec: {command: "sh -c 'exit 42'", on_exit: exit}
`)
	p := startProcess(t, "-config", cfg, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	if code, _ := p.exit(t, 10*time.Second); code != 42 {
		t.Fatalf("exit %d, want the child's 42", code)
	}
}

func TestExecActionNoneLeavesTheChildAlone(t *testing.T) {
	agent, dir, tmpl, out := execSetup(t)
	script := writeFile(t, filepath.Join(dir, "child.sh"), childScript)
	os.Chmod(script, 0o755)
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), `
exec:
  command: `+script+`
  env: {custom: [DIR=`+dir+`]}
templates:
  - {source: `+tmpl+`, destination: `+out+`, exec_action: none}
  - {contents: 'w={{ key "w" }}', destination: `+filepath.Join(dir, "other")+`}
`)
	agent.PutKV(t, "w", "1")
	d := startDaemon(t, "-config", cfg, "-consul-addr", agent.Addr())
	pids := filepath.Join(dir, "pids")
	testkit.WaitFor(t, 10*time.Second, "the child", func() bool { return len(readLines(pids)) == 1 })
	agent.PutKV(t, "v", "2")
	testkit.WaitFor(t, 10*time.Second, "the render", contains(out, "v=2"))
	agent.PutKV(t, "w", "2") // no reload_signal: a change of "other" restarts the child
	testkit.WaitFor(t, 10*time.Second, "the restart", func() bool { return len(readLines(pids)) == 2 })
	if seen, _ := os.ReadFile(filepath.Join(dir, "seen."+readLines(pids)[1])); string(seen) != "v=2" {
		t.Errorf("restarted child saw %q", seen)
	}
	d.running(t)
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a pid: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}
