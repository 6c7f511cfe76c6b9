package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
)

// requireTarget returns the path of a target program, skipping the test when
// it is missing unless CTPL_REQUIRE_TARGETS=1.
func requireTarget(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CTPL_REQUIRE_TARGETS") == "1" {
		t.Fatalf("%s not found and CTPL_REQUIRE_TARGETS=1: %v", name, err)
	}
	t.Skipf("%s not found (apt-get install -y nginx-light); skipping", name)
	return ""
}

// nginxServer is a real nginx master process serving one upstream file.
type nginxServer struct {
	bin      string
	prefix   string
	conf     string // the running config
	upstream string // the file ctpl renders, included by conf
	addr     string
	done     chan error
}

// nginxConf is a minimal config that proxies / to upstream "web" and answers
// /health itself.
const nginxConf = `daemon off;
master_process on;
user root;
worker_processes 1;
pid %[1]s/%[2]s.pid;
error_log %[1]s/%[2]s-error.log;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  include %[3]s;
  server {
    listen %[4]s;
    location = /health { return 200 "ok\n"; }
    location / { proxy_pass http://web; }
  }
}
`

// newNginx prepares an nginx prefix whose config includes upstream; start it
// once upstream exists.
func newNginx(t *testing.T, upstream string) *nginxServer {
	t.Helper()
	n := &nginxServer{bin: requireTarget(t, "nginx"), prefix: t.TempDir(), upstream: upstream, addr: freeAddr(t)}
	n.conf = filepath.Join(n.prefix, "nginx.conf")
	writeFile(t, n.conf, fmt.Sprintf(nginxConf, n.prefix, "nginx", upstream, n.addr))
	// The check config includes a copy of the staged file instead.
	writeFile(t, filepath.Join(n.prefix, "check.conf"),
		fmt.Sprintf(nginxConf, n.prefix, "check", filepath.Join(n.prefix, "check-upstream.conf"), n.addr))
	return n
}

// checkCommand is the check: nginx -t on a config including the staged file.
func (n *nginxServer) checkCommand() string {
	return fmt.Sprintf(`cp "$CTPL_STAGED" %s/check-upstream.conf && %s -t -q -p %s -c %s/check.conf`, n.prefix, n.bin, n.prefix, n.prefix)
}

// reloadCommand reloads the running nginx.
func (n *nginxServer) reloadCommand() string {
	return fmt.Sprintf("%s -p %s -c %s -s reload", n.bin, n.prefix, n.conf)
}

// start runs nginx until the test ends and waits until it serves.
func (n *nginxServer) start(t *testing.T) {
	t.Helper()
	cmd := exec.Command(n.bin, "-p", n.prefix, "-c", n.conf)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n.done = make(chan error, 1)
	go func() { n.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // fast shutdown of master and workers
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-n.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(filepath.Join(n.prefix, "nginx-error.log"))
			t.Logf("nginx output:\n%s\nerror log:\n%s", out, b)
		}
	})
	testkit.WaitFor(t, 10*time.Second, "nginx serving", func() bool { return n.get("/health") == "ok\n" })
}

// get returns the body nginx serves at path, or "" on any error.
func (n *nginxServer) get(path string) string {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + n.addr + path)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Sprintf("status %d: %s", resp.StatusCode, b)
	}
	return string(b)
}

// serving fails the test unless nginx still runs and answers.
func (n *nginxServer) serving(t *testing.T) {
	t.Helper()
	select {
	case err := <-n.done:
		t.Fatalf("nginx exited: %v", err)
	default:
	}
	if got := n.get("/health"); got != "ok\n" {
		t.Fatalf("nginx /health = %q", got)
	}
}

// backend is an HTTP server standing for one service instance.
func backend(t *testing.T, name string) (host string, port int) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	addr := srv.Listener.Addr().(*net.TCPAddr)
	return addr.IP.String(), addr.Port
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// logHas reports whether every part occurs on one line of log.
func logHas(log string, parts ...string) bool {
	for _, line := range strings.Split(log, "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}
