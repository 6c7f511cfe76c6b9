package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// nginxUpstreamTmpl renders an empty upstream block when no instance passes,
// which nginx refuses ("no servers are inside upstream"), and a KV key inside
// the block so a test can make the output invalid.
const nginxUpstreamTmpl = `upstream web {
{{- range service "web" }}
  server {{ .Address }}:{{ .Port }};
{{- end }}
  {{ key "nginx/extra" }}
}
`

func localInstance(id, host string, port int, status string) consultest.Service {
	return consultest.Service{
		Node: "node-" + id, Address: host, ID: id, Name: "web", Port: port,
		Checks: []consultest.Check{{CheckID: "check-" + id, ServiceID: id, Status: status}},
	}
}

// nginxScenario is ctpl keeping the upstream file of a running nginx, with
// nginx -t as the check and a reload that fails on request.
type nginxScenario struct {
	ngx               *nginxServer
	agent             *consultest.Agent
	d                 *daemon
	upstream, reloads string
}

func startNginxScenario(t *testing.T) *nginxScenario {
	dir := t.TempDir()
	s := &nginxScenario{upstream: filepath.Join(dir, "upstream.conf"), reloads: filepath.Join(dir, "reloads")}
	s.ngx = newNginx(t, s.upstream)
	s.agent = consultest.Start(t)
	host, port := backend(t, "b1")
	s.agent.RegisterService(t, localInstance("web1", host, port, "passing"))
	s.agent.PutKV(t, "nginx/extra", "# none")
	// nginx runs before ctpl, as on a real host.
	writeFile(t, s.upstream, fmt.Sprintf("upstream web { server %s:%d; }\n", host, port))
	s.ngx.start(t)
	reload := fmt.Sprintf("echo >> %s; if grep -q fail-reload %s; then echo refused; exit 1; fi; %s",
		s.reloads, s.upstream, s.ngx.reloadCommand())
	tmpl := writeFile(t, filepath.Join(dir, "upstream.tmpl"), nginxUpstreamTmpl)
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), fmt.Sprintf(`min_reload_interval: 100ms
templates:
  - source: %s
    destination: %s
    check: %q
    command: %q
`, tmpl, s.upstream, s.ngx.checkCommand(), reload))
	s.d = startDaemon(t, "-consul-addr", s.agent.Addr(), "-config", cfg)
	testkit.WaitFor(t, 10*time.Second, "first render", contains(s.upstream, "# none"))
	testkit.WaitFor(t, 5*time.Second, "first reload", func() bool { return countLines(s.reloads) == 1 })
	if got := s.ngx.get("/"); got != "b1" {
		t.Fatalf("nginx / = %q, want b1", got)
	}
	return s
}

// TestNginxSafeApply drives a real nginx through the three safe-apply
// faults: every instance failing, an output nginx -t rejects and a reload
// that fails.
func TestNginxSafeApply(t *testing.T) {
	s := startNginxScenario(t)
	ngx, agent, d, upstream, reloads := s.ngx, s.agent, s.d, s.upstream, s.reloads

	t.Run("all instances fail: the upstream file keeps its content", func(t *testing.T) {
		good, _ := os.ReadFile(upstream)
		agent.SetCheck(t, "node-web1", "check-web1", "web1", "critical")
		testkit.WaitFor(t, 5*time.Second, "a warning naming the query", func() bool {
			return logHas(d.stderr.String(), "level=WARN", "health.service(web)", "no instances")
		})
		if now, _ := os.ReadFile(upstream); string(now) != string(good) {
			t.Fatalf("upstream file changed to %q", now)
		}
		ngx.serving(t)
		if got := ngx.get("/"); got != "b1" {
			t.Errorf("nginx / = %q, want b1", got)
		}
		agent.SetCheck(t, "node-web1", "check-web1", "web1", "passing")
		testkit.WaitFor(t, 5*time.Second, "recovery", func() bool { return strings.Contains(d.stderr.String(), "template recovered") })
	})

	t.Run("output failing nginx -t is never activated", func(t *testing.T) {
		before := countLines(reloads)
		agent.PutKV(t, "nginx/extra", "bogus_directive on;")
		testkit.WaitFor(t, 5*time.Second, "the check failure logged", func() bool {
			return logHas(d.stderr.String(), "check failed", "bogus_directive")
		})
		if contains(upstream, "bogus")() {
			t.Fatal("the rejected output was activated")
		}
		ngx.serving(t)
		agent.PutKV(t, "nginx/extra", "keepalive 4;")
		testkit.WaitFor(t, 5*time.Second, "valid output activated", contains(upstream, "keepalive 4;"))
		testkit.WaitFor(t, 5*time.Second, "its reload", func() bool { return countLines(reloads) == before+1 })
		if got := ngx.get("/"); got != "b1" {
			t.Errorf("nginx / = %q, want b1", got)
		}
	})

	t.Run("failing reload: previous content back and reloaded", func(t *testing.T) {
		good, _ := os.ReadFile(upstream)
		before := countLines(reloads)
		agent.PutKV(t, "nginx/extra", "# fail-reload")
		testkit.WaitFor(t, 5*time.Second, "the failed reload and the reload of the restored content", func() bool {
			return countLines(reloads) == before+2
		})
		testkit.WaitFor(t, 5*time.Second, "previous content back", contains(upstream, "keepalive 4;"))
		if now, _ := os.ReadFile(upstream); string(now) != string(good) {
			t.Fatalf("upstream %q, want the previous %q", now, good)
		}
		testkit.WaitFor(t, 5*time.Second, "degraded logged", func() bool { return strings.Contains(d.stderr.String(), "template degraded") })
		ngx.serving(t)
		d.running(t)
		agent.PutKV(t, "nginx/extra", "keepalive 8;")
		testkit.WaitFor(t, 5*time.Second, "new content after the data changed", contains(upstream, "keepalive 8;"))
		testkit.WaitFor(t, 5*time.Second, "its reload", func() bool { return countLines(reloads) == before+3 })
		if got := ngx.get("/"); got != "b1" {
			t.Errorf("nginx / = %q, want b1", got)
		}
	})
	d.running(t)
	if os.Getenv("SAFETY_SHOWLOG") != "" {
		t.Log(d.stderr.String())
	}
}

// TestFlipsCoalesceReloads flips one instance 10 times within 2 s with
// min_reload_interval 1s: at most 3 reloads, and the last one sees Consul's
// final state.
func TestFlipsCoalesceReloads(t *testing.T) {
	agent := consultest.Start(t)
	dir := t.TempDir()
	out, reloads := filepath.Join(dir, "web.conf"), filepath.Join(dir, "reloads")
	agent.RegisterService(t, webInstance("web1", 8080, "passing"))
	agent.RegisterService(t, webInstance("web2", 9090, "passing"))
	tmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), upstreamTmpl)
	// Each reload appends the content it saw, then a separator line.
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), fmt.Sprintf(`min_reload_interval: 1s
templates:
  - source: %s
    destination: %s
    command: "cat %s >> %s; echo ---- >> %s"
`, tmpl, out, out, reloads, reloads))
	d := startDaemon(t, "-consul-addr", agent.Addr(), "-config", cfg)
	testkit.WaitFor(t, 5*time.Second, "first render", contains(out, "10.0.0.2:9090"))
	testkit.WaitFor(t, 5*time.Second, "first reload", func() bool { return runs(reloads) == 1 })

	began := time.Now()
	status := "passing"
	for i := range 10 {
		status = map[bool]string{true: "critical", false: "passing"}[i%2 == 0]
		agent.SetCheck(t, "node-web2", "check-web2", "web2", status)
		time.Sleep(180 * time.Millisecond) // the flips are the workload, not synchronisation
	}
	flips := time.Since(began)
	if status != "passing" {
		t.Fatal("the last flip must leave web2 passing")
	}
	testkit.WaitFor(t, 5*time.Second, "the final state rendered", contains(out, "10.0.0.2:9090"))
	final, _ := os.ReadFile(out)
	testkit.WaitFor(t, 5*time.Second, "a reload of the final content", func() bool {
		return strings.HasSuffix(readString(reloads), string(final)+"----\n")
	})
	// A later change is the sentinel: min_reload_interval orders its reload
	// after any superfluous reload of the final content, which would show
	// as an extra entry before it.
	agent.RegisterService(t, webInstance("web3", 7070, "passing"))
	testkit.WaitFor(t, 5*time.Second, "the sentinel's reload", func() bool { return strings.Contains(readString(reloads), ":7070") })
	seen := strings.SplitAfter(strings.TrimSuffix(readString(reloads), "----\n"), "----\n")
	n := len(seen) - 2 // neither the first reload nor the sentinel's
	t.Logf("10 flips in %v: %d reloads", flips, n)
	if n > 3 {
		t.Errorf("%d reloads for 10 flips, want at most 3", n)
	}
	if seen[len(seen)-2] != string(final)+"----\n" {
		t.Errorf("the reload before the sentinel saw %q, want the final content", seen[len(seen)-2])
	}
	d.running(t)
}

func readString(path string) string { b, _ := os.ReadFile(path); return string(b) }

func runs(path string) int { return strings.Count(readString(path), "----\n") }
