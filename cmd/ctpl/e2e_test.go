package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer = testkit.Buffer

// daemon is ctpl running in-process for one test.
type daemon struct {
	stderr *syncBuffer
	done   chan int
	cancel context.CancelFunc
}

func startDaemon(t *testing.T, args ...string) *daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	d := &daemon{stderr: &syncBuffer{}, done: make(chan int, 1), cancel: cancel}
	go func() { d.done <- run(ctx, args, &syncBuffer{}, d.stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-d.done:
			if code != 0 {
				t.Errorf("ctpl exited %d; log:\n%s", code, d.stderr)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("ctpl did not stop within 5 s")
		}
		if t.Failed() {
			t.Logf("ctpl log:\n%s", d.stderr)
		}
	})
	return d
}

// running fails the test if the daemon has exited.
func (d *daemon) running(t *testing.T) {
	t.Helper()
	select {
	case code := <-d.done:
		d.done <- code
		t.Fatalf("ctpl exited with %d; log:\n%s", code, d.stderr)
	default:
	}
}

func contains(path, s string) func() bool {
	return func() bool { b, err := os.ReadFile(path); return err == nil && strings.Contains(string(b), s) }
}

func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const upstreamTmpl = `upstream web {
{{- range service "web" }}
  server {{ .Address }}:{{ .Port }};
{{- else }}
  server 127.0.0.1:65535 down;
{{- end }}
}
`

func webInstance(id string, port int, status string) consultest.Service {
	return consultest.Service{
		Node: "node-" + id, Address: "10.0.0." + id[len(id)-1:], ID: id, Name: "web", Port: port,
		Tags:   []string{"http"},
		Checks: []consultest.Check{{CheckID: "check-" + id, ServiceID: id, Status: status}},
	}
}

func TestDaemonFollowsConsul(t *testing.T) {
	agent := consultest.Start(t)
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), upstreamTmpl)
	out, reloads := filepath.Join(dir, "web.conf"), filepath.Join(dir, "reloads")
	// on_empty: allow, as this test follows the last instance going away;
	// no reload spacing, as it counts one reload per change.
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), "min_reload_interval: 0s\ntemplates:\n  - source: "+tmpl+"\n    destination: "+out+
		"\n    command: echo reload >> "+reloads+"\n    on_empty: allow\n")
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-config", cfg)

	testkit.WaitFor(t, 5*time.Second, "first render", contains(out, "65535 down"))
	testkit.WaitFor(t, time.Second, "first reload", func() bool { return countLines(reloads) == 1 })

	agent.RegisterService(t, webInstance("web1", 8080, "passing"))
	took := testkit.WaitFor(t, time.Second, "registration rendered", contains(out, "10.0.0.1:8080"))
	t.Logf("registration reached the file in %v", took)
	testkit.WaitFor(t, time.Second, "reload after registration", func() bool { return countLines(reloads) == 2 })

	agent.SetCheck(t, "node-web1", "check-web1", "web1", "critical")
	took = testkit.WaitFor(t, time.Second, "failed check removes the instance", contains(out, "65535 down"))
	t.Logf("health change reached the file in %v", took)
	testkit.WaitFor(t, time.Second, "reload after the health change", func() bool { return countLines(reloads) == 3 })

	// A change the template does not render: the query wakes, the output is
	// the same, so nothing is written and nothing runs.
	before, _ := os.Stat(out)
	agent.SetCheck(t, "node-web1", "check-web1", "web1", "warning")
	agent.RegisterService(t, webInstance("web2", 9090, "passing"))
	testkit.WaitFor(t, time.Second, "second instance", contains(out, "10.0.0.2:9090"))
	after, _ := os.Stat(out)
	if os.SameFile(before, after) {
		t.Fatal("the file was not replaced for a real change")
	}
	testkit.WaitFor(t, time.Second, "one reload for it", func() bool { return countLines(reloads) == 4 })
	agent.RegisterService(t, consultest.Service{
		Node: "node-web2", ID: "web2", Name: "web", Port: 9090, Tags: []string{"http", "extra"},
		Checks: []consultest.Check{{CheckID: "check-web2", ServiceID: "web2", Status: "passing"}},
	})
	agent.PutKV(t, "unrelated", "x")
	agent.RegisterService(t, webInstance("web3", 7070, "critical"))
	agent.SetCheck(t, "node-web3", "check-web3", "web3", "passing")
	testkit.WaitFor(t, time.Second, "third instance", contains(out, "10.0.0.3:7070"))
	testkit.WaitFor(t, time.Second, "its reload", func() bool { return countLines(reloads) == 5 })
	if got := strings.Count(d.stderr.String(), "msg=rendered"); got != 5 {
		t.Errorf("%d writes, want 5 (one per change of output)", got)
	}
	d.running(t)
}

func TestDaemonSurvivesConsulOutage(t *testing.T) {
	agent := consultest.Start(t)
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), upstreamTmpl)
	out := filepath.Join(dir, "web.conf")
	agent.RegisterService(t, webInstance("web1", 8080, "passing"))
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-template", tmpl+":"+out)
	testkit.WaitFor(t, 5*time.Second, "first render", contains(out, "10.0.0.1:8080"))
	good, _ := os.ReadFile(out)

	agent.Stop()
	testkit.WaitFor(t, 10*time.Second, "the outage is logged", func() bool {
		return strings.Contains(d.stderr.String(), "query failing")
	})
	d.running(t)
	if now, _ := os.ReadFile(out); !bytes.Equal(now, good) {
		t.Fatalf("the file changed during the outage:\n%s", now)
	}

	agent.Restart(t) // a dev agent comes back empty
	agent.RegisterService(t, webInstance("web2", 9090, "passing"))
	took := testkit.WaitFor(t, 15*time.Second, "convergence after the outage", contains(out, "10.0.0.2:9090"))
	t.Logf("converged %v after Consul came back", took)
	if n := strings.Count(d.stderr.String(), "query failing"); n != 1 {
		t.Errorf("the outage was logged %d times, want once", n)
	}
	d.running(t)
}

func TestOnceDryAndMissing(t *testing.T) {
	agent := consultest.Start(t)
	agent.RegisterService(t, webInstance("web1", 8080, "passing"))
	agent.PutKV(t, "app/name", "shop")
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `{{ key "app/name" }}:{{ range service "web" }}{{ .Port }}{{ end }}`)
	missing := writeFile(t, filepath.Join(dir, "m.tmpl"), `{{ key "app/missing" }}`)
	out := filepath.Join(dir, "out")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantFile   string // "" means the file must not exist
		wantStdout string
		wantStderr string
		noWarning  bool // nothing logged at WARN
	}{
		{name: "once", args: []string{"-once", "-template", tmpl + ":" + out}, wantFile: "shop:8080", noWarning: true},
		{
			name: "once with the daemon's metrics_addr", args: []string{"-once", "-metrics-addr", "127.0.0.1:0", "-template", tmpl + ":" + out},
			wantFile: "shop:8080", noWarning: true,
		},
		{name: "dry", args: []string{"-once", "-dry", "-template", tmpl + ":" + out}, wantStdout: "> " + out + "\nshop:8080"},
		{
			name: "missing key ends at the deadline naming it", wantCode: exitNoData,
			args:       []string{"-once", "-once-timeout", "1s", "-template", missing + ":" + out},
			wantStderr: "kv.get(app/missing)",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			os.Remove(out)
			var stdout, stderr syncBuffer
			code := run(t.Context(), append([]string{"-consul-addr", agent.Addr()}, tc.args...), &stdout, &stderr)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			b, err := os.ReadFile(out)
			if (tc.wantFile == "") != os.IsNotExist(err) || string(b) != tc.wantFile {
				t.Errorf("file %q (%v), want %q", b, err, tc.wantFile)
			}
			if !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Errorf("stdout %q stderr %q; want %q and %q", stdout.String(), stderr.String(), tc.wantStdout, tc.wantStderr)
			}
			if l := firstLineWith(stderr.String(), "level=WARN"); tc.noWarning && l != "" {
				t.Errorf("a warning: %s", l)
			}
		})
	}
}

// firstLineWith returns the first line of s containing part, or "".
func firstLineWith(s, part string) string {
	for l := range strings.Lines(s) {
		if strings.Contains(l, part) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
