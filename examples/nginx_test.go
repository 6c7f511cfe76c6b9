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
	ports := freePorts(t, 2)
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	rendered := filepath.Join(dir, "ctpl", "upstreams.conf")
	conf, config := installNginx(t, dir, listen, ports[1], abs(t, "nginx/upstreams.tmpl"))
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

// installNginx installs the nginx recipe into dir as the tests run it: the
// main configuration, ctpl-proxy.conf listening on listen with its status
// server on statusPort, and ctpl.yaml rendering tmpl into dir/ctpl. It
// returns nginx's configuration file and ctpl's.
func installNginx(t *testing.T, dir, listen string, statusPort int, tmpl string) (conf, config string) {
	t.Helper()
	conf = filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(nginxMain, dir)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"tmp", "ctpl"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	status := "127.0.0.1:" + strconv.Itoa(statusPort)
	install(t, "nginx/ctpl-proxy.conf", filepath.Join(dir, "conf.d", "ctpl-proxy.conf"),
		"include /etc/nginx/ctpl/*.conf;", "include "+dir+"/ctpl/*.conf;",
		"include /etc/nginx/ctpl/generation*.inc;", "include "+dir+"/ctpl/generation*.inc;",
		"listen 80;", "listen "+listen+";",
		"listen 127.0.0.1:8099;", "listen "+status+";")
	config = install(t, "nginx/ctpl.yaml", filepath.Join(dir, "ctpl.yaml"),
		"/etc/ctpl/nginx/upstreams.tmpl", tmpl,
		"/etc/nginx/ctpl/upstreams.conf", filepath.Join(dir, "ctpl", "upstreams.conf"),
		"/etc/ctpl/nginx/nginx-check", abs(t, "nginx/nginx-check"),
		`/etc/nginx/ctpl/generation.inc"]`, `/etc/nginx/ctpl/generation.inc", "-c", "`+conf+`", "-e", "stderr"]`,
		"/etc/nginx/ctpl/generation.inc", filepath.Join(dir, "ctpl", "generation.inc"),
		"/etc/ctpl/nginx/nginx-reload", abs(t, "nginx/nginx-reload"),
		"/etc/ctpl/nginx/nginx-verify", abs(t, "nginx/nginx-verify"),
		"127.0.0.1:8099", status,
		"min_reload_interval: 1s", "min_reload_interval: "+testReloadInterval,
		"/var/lib/ctpl", filepath.Join(dir, "state"))
	return conf, config
}
