package examples_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
)

// TestNginxVerifyRollsBackARefusedReload makes the real nginx refuse a new
// configuration while its reload command exits 0: the rendered file adds a
// server on a port another process holds. `nginx -t` (the recipe's check)
// does not bind, so it passes; `nginx -s reload` only sends the signal, so it
// exits 0; the master fails to bind and keeps the old configuration. The
// recipe's verify (nginx-verify: the generation marker nginx-reload wrote is
// not served) makes ctpl treat the reload as failed: it restores the last
// good file, reloads again, and marks the template degraded.
func TestNginxVerifyRollsBackARefusedReload(t *testing.T) {
	nginx := requireTarget(t, "nginx", "nginx-light")
	requireTarget(t, "curl", "curl")
	f := startFleet(t)
	dir := t.TempDir()
	ports := freePorts(t, 4)
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	recipe, err := os.ReadFile("nginx/upstreams.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	// The recipe's template plus a server of the operator's own, on the
	// port the key names.
	tmpl := filepath.Join(dir, "upstreams.tmpl")
	extra := "\n{{ with keyOrDefault \"test/extra-port\" \"\" }}server { listen 127.0.0.1:{{ . }}; return 204; }{{ end }}\n"
	if err := os.WriteFile(tmpl, append(recipe, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	conf, config := installNginx(t, dir, listen, ports[1], tmpl)
	rendered := filepath.Join(dir, "ctpl", "upstreams.conf")
	master := startProc(t, "nginx", nil, syscall.SIGQUIT, nginx, "-c", conf, "-e", "stderr")
	waitListening(t, master, listen)
	ctpl := startCtpl(t, f.agent, config, filepath.Dir(nginx))
	t.Cleanup(func() { logFileOnFailure(t, rendered) })
	testkit.WaitFor(t, 20*time.Second, "the first reload, verified", func() bool {
		ctpl.running(t)
		return strings.Contains(ctpl.output(), `msg="command ran"`)
	})
	client := newClient(listen)
	all := names(f.web...)
	client.converge(t, all, time.Now(), 10*time.Second, nil)

	busy, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(ports[2]))
	if err != nil {
		t.Fatal(err)
	}
	f.agent.PutKV(t, "test/extra-port", strconv.Itoa(ports[2]))
	status := filepath.Join(dir, "state", "status.json")
	testkit.WaitFor(t, 30*time.Second, "degraded after the failed verify and the reload of the restored file", func() bool {
		ctpl.running(t)
		b, _ := os.ReadFile(status)
		return strings.Contains(string(b), `"state": "degraded"`) &&
			strings.Count(ctpl.output(), `msg="command ran"`) >= 2
	})
	out := ctpl.output()
	for _, want := range []string{"verify failed", "nginx-verify: nginx serves generation", "restoring the last good content"} {
		if !strings.Contains(out, want) {
			t.Errorf("ctpl's log lacks %q", want)
		}
	}
	if b, _ := os.ReadFile(rendered); strings.Contains(string(b), strconv.Itoa(ports[2])) {
		t.Errorf("the refused content is still in place:\n%s", b)
	}
	client.assertOnly(t, 20, all)

	// The port is free again, and another one is named: the new content
	// loads, verifies, and the template is no longer degraded.
	busy.Close()
	f.agent.PutKV(t, "test/extra-port", strconv.Itoa(ports[3]))
	testkit.WaitFor(t, 30*time.Second, "ok again", func() bool {
		ctpl.running(t)
		b, _ := os.ReadFile(status)
		return strings.Contains(string(b), `"state": "ok"`)
	})
	waitListening(t, master, "127.0.0.1:"+strconv.Itoa(ports[3]))
}
