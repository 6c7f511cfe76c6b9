package examples_test

import (
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestHAProxyRecipe(t *testing.T) {
	haproxy := requireTarget(t, "haproxy", "haproxy")
	f := startFleet(t)
	dir := t.TempDir()
	port := freePorts(t, 1)[0]
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	admin := filepath.Join(dir, "admin.sock")
	pidFile := filepath.Join(dir, "haproxy.pid")
	pairs := []string{"bind :80", "bind " + listen, "/run/haproxy/admin.sock", admin}
	if os.Geteuid() != 0 {
		pairs = append(pairs, "    user haproxy\n", "", "    group haproxy\n", "")
	}
	conf := install(t, "haproxy/haproxy.cfg", filepath.Join(dir, "haproxy.cfg"), pairs...)
	rendered := filepath.Join(dir, "ctpl", "backends.cfg")
	if err := os.MkdirAll(filepath.Dir(rendered), 0o755); err != nil {
		t.Fatal(err)
	}
	config := install(t, "haproxy/ctpl.yaml", filepath.Join(dir, "ctpl.yaml"),
		"/etc/ctpl/haproxy/backends.tmpl", abs(t, "haproxy/backends.tmpl"),
		"/etc/haproxy/ctpl/backends.cfg", rendered,
		"/etc/haproxy/haproxy.cfg", conf,
		"/etc/ctpl/haproxy/haproxy-reload", abs(t, "haproxy/haproxy-reload"),
		"/etc/ctpl/haproxy/haproxy-verify", abs(t, "haproxy/haproxy-verify"),
		"/run/haproxy-master.sock", filepath.Join(dir, "master.sock"),
		"/run/haproxy.pid", pidFile,
		"min_reload_interval: 1s", "min_reload_interval: "+testReloadInterval,
		"/var/lib/ctpl", filepath.Join(dir, "state"))
	// As systemd orders them: HAProxy first, with the empty backends file
	// the recipe's drop-in creates, then ctpl, whose first render reloads it.
	if err := os.WriteFile(rendered, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	master := startProc(t, "haproxy", nil, syscall.SIGTERM, haproxy,
		"-W", "-f", conf, "-f", rendered, "-p", pidFile, "-S", filepath.Join(dir, "master.sock"))
	waitListening(t, master, listen)
	ctpl := startCtpl(t, f.agent, config, filepath.Dir(haproxy))
	t.Cleanup(func() { logFileOnFailure(t, rendered) })
	exerciseProxy(t, f, &proxy{
		name: "HAProxy", master: master, ctpl: ctpl, client: newClient(listen),
		workers: 1, statusNoInstance: 503, statusUnknown: 404, zeroFailures: true,
		placeholder: []string{},
		effective: func(t *testing.T) (map[string][]string, string) {
			backends := haproxyCLI(t, admin, "show backend")
			state := haproxyCLI(t, admin, "show servers state")
			return haproxyServers(t, backends, state), backends + state
		},
	})
	assertHAProxyVerify(t, ctpl, filepath.Join(dir, "master.sock"), rendered)
}

// assertHAProxyVerify checks that the recipe's verify ran and passed on
// every reload, and that it fails for a file the worker does not run.
func assertHAProxyVerify(t *testing.T, ctpl *proc, masterSock, rendered string) {
	t.Helper()
	if out := ctpl.output(); strings.Contains(out, "verify failed") || !strings.Contains(out, `msg="command ran"`) {
		t.Errorf("a verify failed, or no reload ran:\n%s", ctpl.tail(40))
	}
	verify := abs(t, "haproxy/haproxy-verify")
	if out, err := exec.Command(verify, masterSock, rendered).CombinedOutput(); err != nil {
		t.Errorf("haproxy-verify on the running file: %v\n%s", err, out)
	}
	b, _ := os.ReadFile(rendered)
	other := filepath.Join(t.TempDir(), "other.cfg")
	extra := "\nbackend ctpl_other\n    server n:x 10.9.9.9:80 check\n"
	if err := os.WriteFile(other, append(b, extra...), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(verify, masterSock, other).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "missing ctpl_other/n:x 10.9.9.9:80") {
		t.Errorf("haproxy-verify on a file the worker does not run: %v\n%s", err, out)
	}
}

// haproxyCLI sends one command to HAProxy's stats socket and returns the
// answer.
func haproxyCLI(t *testing.T, socket, command string) string {
	t.Helper()
	c, err := net.DialTimeout("unix", socket, 2*time.Second)
	if err != nil {
		t.Fatalf("haproxy stats socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, command+"\n"); err != nil {
		t.Fatalf("haproxy %q: %v", command, err)
	}
	out, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("haproxy %q: %v", command, err)
	}
	return string(out)
}

// haproxyServers reads the servers ("ip:port") of each ctpl_ backend from
// the answers to `show backend` and `show servers state`.
func haproxyServers(t *testing.T, backends, state string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for line := range strings.Lines(backends) {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "ctpl_")
		if ok && name != "no_such_service" {
			out[name] = []string{}
		}
	}
	var cols map[string]int
	for line := range strings.Lines(state) {
		f := strings.Fields(line)
		if len(f) > 1 && f[0] == "#" {
			cols = map[string]int{}
			for i, name := range f[1:] {
				cols[name] = i
			}
			continue
		}
		if cols == nil || len(f) < len(cols) {
			continue
		}
		name, ok := strings.CutPrefix(f[cols["be_name"]], "ctpl_")
		if !ok || name == "no_such_service" {
			continue
		}
		out[name] = append(out[name], net.JoinHostPort(f[cols["srv_addr"]], f[cols["srv_port"]]))
	}
	if cols == nil {
		t.Fatalf("no header in `show servers state`:\n%s", state)
	}
	return out
}
