package main

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
)

// realWorldCommandLines are consul-template invocations from public
// entrypoint scripts, Dockerfiles, READMEs and init units, as the shell
// hands them over (variables filled in). Sources marked "code search" were
// found without the repository's name.
var realWorldCommandLines = []struct {
	source string
	args   []string
	same   func(t *testing.T, cfg config.Config, fl *flags) // runs with consul-template's meaning
	refuse string                                           // or is refused in one line containing this
}{
	{source: "rwhitt114/ansible-automation scripts/getConfigInitSe.sh",
		args: []string{"-log-level", "trace", "-once", "-template", "./consul-templates/configInitSe.tpl:../config/init/se_test.yml"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "log level", cfg.LogLevel, "debug")
			same(t, "once", fl.once, true)
			same(t, "template", cfg.Templates[0].Source+" "+cfg.Templates[0].Destination,
				"./consul-templates/configInitSe.tpl ../config/init/se_test.yml")
		}},
	{source: "ket4yii/nginx-consul-template entrypoint.sh",
		args:   []string{"-template", "/etc/nginx/nginx.ctmpl:/etc/nginx/nginx.conf:nginx -s reload", "-consul", "consul:8500", "-exec", `nginx -g "daemon off;"`},
		refuse: "-consul (consul-template's name for -consul-addr before v0.19"},
	{source: "nejtr0n/nginx start.sh",
		args:   []string{"-consul=consul:8500", "-wait", "10s", "-retry", "10s", "-template=/templates/site.tmpl:/etc/nginx/conf.d/default.conf:service nginx reload || true"},
		refuse: "-consul (consul-template's name for -consul-addr"},
	{source: "nejtr0n/nginx start.sh, with -consul-addr as consul-template v0.19 and later need",
		args: []string{"-consul-addr=consul:8500", "-wait", "10s", "-retry", "10s", "-template=/templates/site.tmpl:/etc/nginx/conf.d/default.conf:service nginx reload || true"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "address", cfg.Consul.Address, "consul:8500")
			same(t, "wait", cfg.Wait, config.WaitConfig{Min: 10 * time.Second, Max: 40 * time.Second})
			same(t, "retry", cfg.Consul.Retry.Backoff, 10*time.Second)
			same(t, "command", cfg.Templates[0].Command.Shell, "service nginx reload || true")
		}},
	{source: "outcoldman/docker-splunk-cluster images/lb/entrypoint.sh",
		args: []string{"-consul", "consul:8500", "-template", "/usr/local/etc/consul/template.ctmpl:/usr/local/etc/haproxy/haproxy.cfg",
			"-exec", "/docker-entrypoint.sh haproxy -f /usr/local/etc/haproxy/haproxy.cfg"},
		refuse: "-consul (consul-template's name for -consul-addr"},
	{source: "nejtr0n/haproxy start.sh",
		args:   []string{"-consul=consul:8500", "-template=/templates/haproxy.tmpl:/usr/local/etc/haproxy/haproxy.cfg:haproxy -f /usr/local/etc/haproxy/haproxy.cfg -sf 42 &"},
		refuse: "-consul (consul-template's name for -consul-addr"},
	{source: "mtungusov/dockers consul-template/README.md",
		args:   []string{"-consul=localhost:8500", "-template", "zoo.ctmpl:zoo.cfg", "-dry", "-once"},
		refuse: "-consul (consul-template's name for -consul-addr"},
	{source: "leandrocp/consul-haproxy README.md (docker run arguments: the unquoted command splits)",
		args:   []string{"-consul-addr", "10.0.0.1:8500", "-template", "/haproxy.ctmpl:/etc/haproxy/haproxy.cfg:service", "haproxy", "reload"},
		refuse: "unexpected arguments: [haproxy reload]"},
	{source: "code search: an upstart job (go-boilerplate)",
		args: []string{"-consul-addr", "127.0.0.1:8500", "-config", "internal/config/testdata/realworld/uib.hcl"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "the flag wins over the file", cfg.Consul.Address, "127.0.0.1:8500")
			same(t, "the file's template", cfg.Templates[0].Destination, "/var/run/api.address")
		}},
	{source: "code search: a Vault image's entrypoint",
		args: []string{"-config=internal/config/testdata/realworld/slm.hcl", "-vault-addr=http://vault:8200", "-log-level=debug",
			"-exec=dumb-init /docker-entrypoint.sh nginx"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "exec", cfg.Exec.Command, config.CommandConfig{Shell: "dumb-init /docker-entrypoint.sh nginx"})
			same(t, "exec kill signal, from the file's exec block", cfg.Exec.KillSignal, "SIGINT")
			same(t, "one warning, for Vault", len(cfg.Warnings) == 1 && strings.HasPrefix(cfg.Warnings[0], "-vault-addr: "), true)
		}},
	{source: "code search: an nginx image's entrypoint",
		args: []string{"-template", "/nginx.conf:/etc/nginx/conf.d/default.conf", "-exec", "nginx -g 'daemon off;'"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "exec argv", cfg.Exec.SupervisorOptions(nil).Args, []string{"/bin/sh", "-c", "nginx -g 'daemon off;'"})
		}},
	{source: "code search: an Alpine entrypoint",
		args: []string{"-consul-addr=consul:8500", "-template", "/etc/consul-templates/app.conf:/etc/nginx/conf.d/default.conf:/bin/ash -c 'nginx -s reload || true'"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "command", cfg.Templates[0].Command.Shell, "/bin/ash -c 'nginx -s reload || true'")
		}},
	{source: "code search: Caddy and HAProxy from one consul-template",
		args: []string{"-template=/consul/template/caddy/Caddyfile.ctmpl:/consul/template/caddy/Caddyfile",
			"-template=/consul/template/caddy/haproxy.cfg.ctmpl:/consul/template/haproxy/haproxy.cfg"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "templates", len(cfg.Templates), 2)
			same(t, "second", cfg.Templates[1].Destination, "/consul/template/haproxy/haproxy.cfg")
		}},
	{source: "code search: a cosbench entrypoint, with -consul-addr",
		args: []string{"-once", "-dedup", "-consul-addr", "consul:8500", "-template", "/opt/cosbench/conf/controller.conf.ctmpl:/opt/cosbench/conf/controller.conf"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "dedup warned", len(cfg.Warnings) == 1 && strings.HasPrefix(cfg.Warnings[0], "-dedup: not supported"), true)
		}},
	{source: "code search: a Dockerfile's CMD with a JSON config (here claranet/puppet-consul_template's form)",
		args: []string{"-config=internal/config/testdata/realworld/puppet-claranet.json"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "address", cfg.Consul.Address, "localhost:8500")
			same(t, "templates", len(cfg.Templates), 2)
		}},
	{source: "code search: a systemd unit reading a directory (here wffls/waffles's conf.d)",
		args: []string{"-config", "internal/config/testdata/realworld/waffles", "-log-level", "err", "-max-stale", "1m", "-kill-signal", "SIGINT"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "templates", len(cfg.Templates), 2)
			same(t, "log level", cfg.LogLevel, "error")
			same(t, "max stale", cfg.MaxStale, time.Minute)
		}},
	{source: "code search: consul-template with a Vault token file and renewal",
		args: []string{"-vault-addr", "https://vault:8200", "-vault-token", "x", "-vault-renew-token=false", "-template", "a.ctmpl:/tmp/a"},
		same: func(t *testing.T, cfg config.Config, fl *flags) {
			same(t, "one warning for the Vault flags", cfg.Warnings, []string{"-vault-addr, -vault-token, -vault-renew-token: ignored: " +
				"ctpl has no Vault client, and a template calling secret or secrets fails to load; see docs/migration.md#vault-and-nomad"})
		}},
}

// TestRealWorldCommandLines: each command line runs with the meaning it
// has for consul-template, or is refused in one line.
func TestRealWorldCommandLines(t *testing.T) {
	for _, tc := range realWorldCommandLines {
		t.Run(tc.source, func(t *testing.T) {
			if tc.refuse != "" {
				var stderr syncBuffer
				if code := run(t.Context(), tc.args, io.Discard, &stderr); code != exitFlags {
					t.Errorf("exit %d, want %d", code, exitFlags)
				}
				msg := stderr.String()
				if !strings.Contains(msg, tc.refuse) || strings.Count(msg, "\n") != 1 {
					t.Fatalf("stderr %q, want one line containing %q", msg, tc.refuse)
				}
				return
			}
			fs, fl := newFlagSet(io.Discard)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := loadConfig(fs, fl)
			if _, bad := errors.AsType[*flagError](err); err != nil || bad {
				t.Fatalf("refused: %v", err)
			}
			tc.same(t, cfg, fl)
		})
	}
}

func same(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
