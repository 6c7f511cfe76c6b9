package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/renderer"
)

// ctWant is a template as consul-template v0.41.1 would run it, from its
// config package's defaults: create_dest_dirs true, backup false, the
// command timeout 30s, the global wait when the template has none, max 4 ×
// min when max is not given, a one-string command through sh -c when it has
// spaces.
type ctWant struct {
	dest    string
	argv    []string // what runs after a render; ["sh", "-c", s] for a shell string
	perms   os.FileMode
	wait    [2]time.Duration
	timeout time.Duration // 0: the default 30s
	backup  bool
	noDirs  bool // create_dest_dirs = false
	missing bool // error_on_missing_key
	delims  string
}

func sh(s string) []string { return []string{"sh", "-c", s} }

func waitOf(min, max time.Duration) [2]time.Duration { return [2]time.Duration{min, max} }

const s1 = time.Second

// realWorld are consul-template configurations written from public
// repositories (each file names its source); what ctpl must make of each.
var realWorld = []struct {
	path      string
	warned    []string // the key paths warned about, in order
	refused   []string // the key paths refused; nothing else is checked then
	address   string
	templates []ctWant
	check     func(t *testing.T, cfg Config)
}{
	{path: "pepe-posts.hcl", address: "consul:8500",
		templates: []ctWant{{dest: "/config/default.conf"}}},
	{path: "cbottle.hcl", address: "localhost:8500",
		templates: []ctWant{{dest: "./scripts/nginx/site.conf", argv: []string{"./run_nginx.sh"}, perms: 0o644}}},
	{path: "payments.hcl", address: "consul-server:8500", warned: []string{"consul.retry.attempts"},
		templates: []ctWant{{dest: "/etc/nginx/nginx.conf", argv: sh("/usr/sbin/nginx -s reload"), perms: 0o644}}},
	{path: "jackmuratore.tf",
		templates: []ctWant{{dest: "/etc/nginx/conf.d/site.conf", argv: sh("systemctl restart nginx"), perms: 0o660,
			backup: true, timeout: 60 * s1, wait: waitOf(2*s1, 10*s1)}}},
	{path: "ecosystem.hcl", warned: []string{"consul.retry.attempts"},
		templates: []ctWant{{dest: "/app/src/ecosystem.json", argv: sh("sh -c 'pgrep consul-template | xargs kill -HUP'"),
			perms: 0o600, wait: waitOf(s1, 45*s1)}},
		check: func(t *testing.T, cfg Config) { equal(t, "pid_file", cfg.PidFile, "/tmp/consul-template.pid") }},
	{path: "client-tls.hcl", warned: []string{"syslog"},
		templates: []ctWant{{dest: "/etc/consul.d/tls.hcl", perms: 0o444}},
		check:     execIs(sh("sudo bash -c 'chown consul:consul /etc/consul.d/*.hcl'"))},
	{path: "users.hcl", templates: []ctWant{{dest: "/etc/consul-template/rendered/users.yml", perms: 0o600, timeout: 60 * s1,
		argv: sh("/bin/bash -c '/usr/bin/ansible-playbook /etc/consul-template/rendered/users.yml || true'"),
		wait: waitOf(5*s1, 10*s1)}}},
	{path: "haproxy-t2.hcl", address: "127.0.0.1:8500", warned: []string{"vault"},
		templates: []ctWant{
			{dest: "/etc/haproxy/haproxy.cfg", noDirs: true, perms: 0o644, wait: waitOf(15*s1, 30*s1),
				argv: sh("sudo systemctl reload-or-restart haproxy || true")},
			{dest: "/etc/haproxy/domain2backend-map.txt", noDirs: true, perms: 0o644, wait: waitOf(15*s1, 30*s1),
				argv: sh("sudo systemctl reload-or-restart haproxy || true")},
		}},
	{path: "lxd-base", warned: []string{"vault"},
		templates: []ctWant{{dest: "/etc/motd", perms: 0o644, wait: waitOf(60*s1, 180*s1)}},
		check: func(t *testing.T, cfg Config) {
			equal(t, "max_stale", cfg.MaxStale, 10*time.Minute)
			equal(t, "pid_file", cfg.PidFile, "/var/run/consul-template.pid")
		}},
	{path: "secure-servers.hcl", address: "127.0.0.1:8501", warned: []string{"vault"},
		templates: []ctWant{{dest: "/etc/app.yaml", missing: true, wait: waitOf(2*s1, 10*s1)}},
		check:     func(t *testing.T, cfg Config) { equal(t, "tls", cfg.Consul.Options().TLS.Enable, true) }},
	{path: "vault-agent.hcl", templates: []ctWant{{dest: "/usr/local/etc/consul-template.d/vault.hcl",
		argv: sh("pkill -HUP consul-template")}},
		check: func(t *testing.T, cfg Config) {
			equal(t, "heredoc", strings.HasPrefix(cfg.Templates[0].Contents, "{{ with service \"vault\" }}\nvault {"), true)
		}},
	{path: "ecr-dedup.hcl", warned: []string{"consul.retry.attempts", "deduplicate"},
		check: func(t *testing.T, cfg Config) {
			equal(t, "wait", cfg.Wait, WaitConfig{Min: s1, Max: 45 * s1})
			equal(t, "backoff", cfg.Consul.Retry.Backoff, 50*time.Millisecond)
		}},
	{path: "consultemplate-haproxy.hcl", address: "%%CONSUL_CLIENT_HTTPS%%", warned: []string{"consul.retry.attempts"},
		check: func(t *testing.T, cfg Config) {
			o := cfg.Consul.Options().TLS
			equal(t, "tls without verification", o.Enable && o.InsecureSkipVerify, true)
			equal(t, "log_level", cfg.LogLevel, "warn")
			equal(t, "wait", cfg.Wait, WaitConfig{Min: 5 * s1, Max: 10 * s1})
		}},
	{path: "uib.hcl", address: "localhost:8500", warned: []string{"syslog"},
		templates: []ctWant{{dest: "/var/run/api.address", argv: sh("/usr/sbin/apachectl restart"), wait: waitOf(5*s1, 10*s1)}}},
	{path: "httprouty.hcl", warned: []string{"consul.retry.attempts", "deduplicate"},
		templates: []ctWant{{dest: "/usr/local/etc/haproxy/haproxy.cfg", argv: []string{"/usr/local/bin/haproxy-reload"},
			wait: waitOf(5*s1, 10*s1)}},
		check: func(t *testing.T, cfg Config) { equal(t, "max_stale", cfg.MaxStale, time.Minute) }},
	{path: "otus.hcl", address: "localhost:8500", warned: []string{"consul.retry.attempts"},
		templates: []ctWant{{dest: "/etc/nginx/conf.d/upstreams.conf", perms: 0o600,
			argv: sh("sudo systemctl stop nginx && sudo systemctl start nginx")}}},
	{path: "test-consul.hcl", templates: []ctWant{{dest: "/home/centos/config/haproxy.cfg", argv: sh("docker restart ha-proxy-lb")}}},
	{path: "slm.hcl", address: "consul:8500",
		templates: []ctWant{{dest: "/etc/nginx/conf.d/default.conf", argv: []string{"nginx", "-s", "reload"}}},
		check:     execIs([]string{"nginx", "-g", "daemon off;"})},
	{path: "docker-alpine", templates: []ctWant{{dest: "/etc/nginx/nginx.conf", perms: 0o644,
		argv: sh("/bin/sh -c 'test -d /var/run/s6/services/nginx && nginx -s reload || true'")}}},
	{path: "chef-devopsdance", templates: []ctWant{{dest: "/tmp/example.conf", argv: []string{"/bin/true"}, perms: 0o640,
		timeout: 15 * s1, backup: true, delims: "<%%>", wait: waitOf(5*s1, 20*s1)}}},
	{path: "puppet-claranet.json", address: "localhost:8500",
		templates: []ctWant{
			{dest: "/tmp/common.json", argv: []string{"true"}, perms: 0o644, wait: waitOf(5*s1, 30*s1)},
			{dest: "/etc/nginx/conf.d/upstreams.conf", argv: sh("systemctl reload nginx"), wait: waitOf(5*s1, 30*s1)},
		},
		check: func(t *testing.T, cfg Config) { equal(t, "max_stale", cfg.MaxStale, 10*time.Minute) }},
	{path: "waffles", templates: []ctWant{
		{dest: "/etc/hosts"},
		{dest: "/etc/nginx/sites-enabled/app", argv: sh("service nginx reload")},
	}},
	{path: "puppet-claranet-018.hcl", address: "127.0.0.1:8500", warned: []string{"consul.retry.attempts", "deduplicate", "vault"},
		templates: []ctWant{{dest: "/etc/app/app.conf", argv: sh("systemctl reload app"), wait: waitOf(5*s1, 30*s1)}},
		check: func(t *testing.T, cfg Config) {
			equal(t, "token", cfg.Consul.Token, "00000000-0000-0000-0000-000000000000")
			equal(t, "max_stale", cfg.MaxStale, s1)
		}},
	{path: "puppet-claranet-old.hcl", refused: []string{"token", "retry"}},
	{path: "chef-consul-config.json",
		refused: []string{"auth", "max-stale", "ssl", "ssl-verify", "syslog-facility", "token", "wait", "retry"}},
	{path: "ivy-haproxy.hcl", address: "localhost:8500", warned: []string{"deduplicate"},
		templates: []ctWant{
			{dest: "/etc/haproxy/blocked_ips.txt", wait: waitOf(10*s1, 60*s1)},
			{dest: "/etc/haproxy/haproxy.cfg", argv: []string{"/opt/ivy/consul-template/reload_haproxy.sh"}, wait: waitOf(10*s1, 60*s1)},
		},
		check: func(t *testing.T, cfg Config) { equal(t, "max_stale", cfg.MaxStale, 5*s1) }},
}

// TestRealWorldConfigs loads each configuration as `ctpl -config FILE`
// does, checks every message is the operator's words naming file:line and
// key path, and that each template runs as consul-template would run it;
// then converts it and checks the YAML loads to the same settings.
func TestRealWorldConfigs(t *testing.T) {
	entries, _ := os.ReadDir("testdata/realworld")
	tested := map[string]bool{}
	for _, tc := range realWorld {
		tested[tc.path] = true
		t.Run(tc.path, func(t *testing.T) {
			path := filepath.Join("testdata/realworld", tc.path)
			cfg := Default()
			err := LoadFile(&cfg, path)
			msgs := slices.Clone(cfg.Warnings)
			if err != nil {
				msgs = append(msgs, strings.Split(err.Error(), "\n")[1:]...)
			}
			for _, m := range msgs {
				assertOperatorWords(t, m)
			}
			agreesWithConsulTemplate(t, path, cfg, err)
			if tc.refused != nil {
				if err == nil {
					t.Fatal("loaded; consul-template v0.41.1 refuses it")
				}
				equal(t, "refused keys", keyPaths(t, msgs[len(cfg.Warnings):]), tc.refused)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "warned keys", keyPaths(t, cfg.Warnings), tc.warned)
			equal(t, "address", cfg.Consul.Address, tc.address)
			checkTemplates(t, cfg, tc.templates)
			if tc.check != nil {
				tc.check(t, cfg)
			}
			roundTrip(t, path, cfg)
			if len(tc.templates) > 0 {
				if err := cfg.Validate(); err != nil {
					t.Errorf("does not validate: %v", err)
				}
			}
		})
	}
	for _, e := range entries {
		if !tested[e.Name()] && e.Name() != "SOURCES.md" {
			t.Errorf("testdata/realworld/%s is not in the table", e.Name())
		}
	}
}

var messageRe = regexp.MustCompile(`^testdata/realworld/[^:]+:([1-9][0-9]*): ([a-z_.-]+|template|templates\[\d+\][a-z_.]*): .`)

// keyPaths checks each message names file:line and a key path, and returns
// the key paths.
func keyPaths(t *testing.T, msgs []string) []string {
	t.Helper()
	var paths []string
	for _, m := range msgs {
		sub := messageRe.FindStringSubmatch(m)
		if sub == nil {
			t.Errorf("the message does not start file:line: key.path: %q", m)
			continue
		}
		paths = append(paths, sub[2])
	}
	return paths
}

func checkTemplates(t *testing.T, cfg Config, want []ctWant) {
	t.Helper()
	if len(cfg.Templates) != len(want) {
		t.Fatalf("%d templates, want %d", len(cfg.Templates), len(want))
	}
	for i, w := range want {
		got, err := templateSettings(cfg, cfg.Templates[i])
		if err != nil {
			t.Fatal(err)
		}
		lang, err := languageOptions(cfg, cfg.Templates[i])
		if err != nil {
			t.Fatal(err)
		}
		if w.timeout == 0 {
			w.timeout = renderer.DefaultCommandTimeout
		}
		if w.wait[1] == 0 {
			w.wait[1] = 4 * w.wait[0]
		}
		timeout := got.CommandTimeout
		if timeout == 0 {
			timeout = renderer.DefaultCommandTimeout
		}
		gotWant := []struct {
			name      string
			got, want any
		}{
			{"destination", got.Dest, w.dest},
			{"command", argv(got.Command), w.argv},
			{"perms", got.File.Perms, w.perms},
			{"wait", waitOf(got.Wait.Min, got.Wait.Max), w.wait},
			{"command timeout", timeout, w.timeout},
			{"backup", got.File.Backup, w.backup},
			{"create_dest_dirs", got.File.CreateDestDirs, !w.noDirs},
			{"error_on_missing_key", lang.ErrOnMissingKey, w.missing},
			{"delimiters", lang.LeftDelim + lang.RightDelim, w.delims},
		}
		for _, c := range gotWant {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("template %d: %s = %#v, consul-template's %#v", i+1, c.name, c.got, c.want)
			}
		}
	}
}

// argv is what a command runs as, in consul-template's terms.
func argv(c renderer.Command) []string {
	if c.Shell {
		return sh(c.Args[0])
	}
	return c.Args
}

// execIs checks the exec child's command means want: a shell string is
// compared by its words, as ctpl runs one without a shell when it needs none.
func execIs(want []string) func(*testing.T, Config) {
	return func(t *testing.T, cfg Config) {
		t.Helper()
		if cfg.Exec == nil {
			t.Fatal("no exec")
		}
		words := func(a []string) string {
			if len(a) == 3 && (a[0] == "sh" || a[0] == "/bin/sh") && a[1] == "-c" {
				return a[2]
			}
			if len(want) == 3 && want[0] == "sh" {
				return strings.Join(a, " ")
			}
			return strings.Join(quoteAll(a), " ")
		}
		equal(t, "exec", words(cfg.Exec.SupervisorOptions(nil).Args), words(want))
		equal(t, "exec kill signal", cfg.Exec.KillSignal, "SIGINT")
		equal(t, "exec on exit", cfg.Exec.OnExit, "exit")
	}
}

func quoteAll(a []string) []string {
	out := make([]string, len(a))
	for i, s := range a {
		out[i] = "[" + s + "]"
	}
	return out
}

// roundTrip converts path and loads the YAML: the same settings, the same
// warnings, none of its own.
func roundTrip(t *testing.T, path string, direct Config) {
	t.Helper()
	conv, err := Convert(path)
	if err != nil || len(conv.Errors) > 0 {
		t.Fatalf("convert: %v %q", err, conv.Errors)
	}
	yamlPath := filepath.Join(t.TempDir(), "ctpl.yaml")
	if err := os.WriteFile(yamlPath, conv.YAML, 0o644); err != nil {
		t.Fatal(err)
	}
	converted := Default()
	if err := LoadFile(&converted, yamlPath); err != nil {
		t.Fatalf("the converted YAML does not load: %v\n%s", err, conv.YAML)
	}
	if len(converted.Warnings) != 0 {
		t.Errorf("the converted YAML warns: %q", converted.Warnings)
	}
	equal(t, "convert's warnings", conv.Warnings, direct.Warnings)
	if a, b := effective(direct), effective(converted); !reflect.DeepEqual(a, b) {
		t.Errorf("settings differ:\ndirect    %+v\nconverted %+v\nYAML:\n%s", a, b, conv.YAML)
	}
}

func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}
