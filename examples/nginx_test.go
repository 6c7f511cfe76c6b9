package examples_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// nginxMain is the test's stand-in for Debian's /etc/nginx/nginx.conf: every
// path inside the test's directory, and the conf.d include the recipe's
// ctpl-proxy.conf relies on.
const nginxMain = `daemon off;
worker_processes 2;
pid %[1]s/nginx.pid;
error_log stderr notice;
events { worker_connections 512; }
http {
    access_log off;
    client_body_temp_path %[1]s/tmp/body;
    proxy_temp_path %[1]s/tmp/proxy;
    fastcgi_temp_path %[1]s/tmp/fastcgi;
    uwsgi_temp_path %[1]s/tmp/uwsgi;
    scgi_temp_path %[1]s/tmp/scgi;
    include %[1]s/conf.d/*.conf;
}
`

func TestNginxRecipe(t *testing.T) {
	nginx := requireTarget(t, "nginx", "nginx-light")
	f := startFleet(t)
	dir := t.TempDir()
	port := freePorts(t, 1)[0]
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxMain, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"tmp", "ctpl"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	install(t, "nginx/ctpl-proxy.conf", filepath.Join(dir, "conf.d", "ctpl-proxy.conf"),
		"include /etc/nginx/ctpl/*.conf;", "include "+dir+"/ctpl/*.conf;",
		"listen 80;", "listen "+listen+";")
	rendered := filepath.Join(dir, "ctpl", "upstreams.conf")
	config := install(t, "nginx/ctpl.yaml", filepath.Join(dir, "ctpl.yaml"),
		"/etc/ctpl/nginx/upstreams.tmpl", abs(t, "nginx/upstreams.tmpl"),
		"/etc/nginx/ctpl/upstreams.conf", rendered,
		"/etc/ctpl/nginx/nginx-check", abs(t, "nginx/nginx-check"),
		"nginx -t -q && nginx -s reload", "nginx -c "+conf+" -e stderr -t -q && nginx -c "+conf+" -e stderr -s reload",
		"min_reload_interval: 1s", "min_reload_interval: "+testReloadInterval,
		"/var/lib/ctpl", filepath.Join(dir, "state"))
	// As systemd orders them: nginx first (its glob include needs no
	// rendered file yet), then ctpl, whose first render reloads it.
	master := startProc(t, "nginx", nil, syscall.SIGQUIT, nginx, "-c", conf, "-e", "stderr")
	waitListening(t, master, listen)
	ctpl := startCtpl(t, f.agent, config, filepath.Dir(nginx))
	t.Cleanup(func() { logFileOnFailure(t, rendered) })
	exerciseProxy(t, f, &proxy{
		name: "nginx", master: master, ctpl: ctpl, client: newClient(listen),
		workers: 2, statusNoInstance: 502, statusUnknown: 502,
		placeholder: []string{"127.0.0.1:1 down"},
		effective: func(t *testing.T) (map[string][]string, string) {
			out, err := exec.Command(nginx, "-T", "-q", "-e", "stderr", "-c", conf).CombinedOutput()
			if err != nil {
				t.Fatalf("nginx -T: %v\n%s", err, out)
			}
			return nginxUpstreams(string(out)), string(out)
		},
	})
}

var (
	upstreamLine = regexp.MustCompile(`^\s*upstream\s+ctpl_(\S+)\s*\{`)
	serverLine   = regexp.MustCompile(`^\s*server\s+([^;#]+);`)
)

// nginxUpstreams reads the servers of each ctpl upstream from `nginx -T`.
func nginxUpstreams(dump string) map[string][]string {
	out := map[string][]string{}
	current := ""
	for line := range strings.Lines(dump) {
		if m := upstreamLine.FindStringSubmatch(line); m != nil {
			current = m[1]
			out[current] = []string{}
			continue
		}
		if strings.TrimSpace(line) == "}" {
			current = ""
			continue
		}
		if m := serverLine.FindStringSubmatch(line); m != nil && current != "" {
			out[current] = append(out[current], strings.Join(strings.Fields(m[1]), " "))
		}
	}
	return out
}
