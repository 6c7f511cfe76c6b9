package main

import (
	"errors"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
)

// TestConsulTemplateFlags holds ctpl to every flag consul-template v0.41.1
// defines (its cli.go: 78 names; its -h lists 73 of them, -v and -version
// on one line): each is accepted with the same meaning (the setting it
// changes is checked), accepted with one warning saying why ctpl ignores
// it, or refused with one line saying why and what to do instead.
func TestConsulTemplateFlags(t *testing.T) {
	type result = struct {
		cfg config.Config
		fl  *flags
	}
	tests := []struct {
		args   []string
		same   func(f result) bool // accepted: the effect
		warn   string              // accepted with this warning
		refuse string              // refused with this message
	}{
		{args: []string{"-config", "internal/config/testdata/ct/sample.hcl"},
			same: func(f result) bool { return f.cfg.Consul.Address == "127.0.0.1:8500" && len(f.cfg.Templates) == 3 }},
		{args: []string{"-consul-addr", "10.0.0.1:8500"}, same: func(f result) bool { return f.cfg.Consul.Address == "10.0.0.1:8500" }},
		{args: []string{"-consul-auth", "u:p"}, refuse: "set CONSUL_HTTP_AUTH=user:password"},
		{args: []string{"-consul-retry=false"}, warn: "retries forever"},
		{args: []string{"-consul-retry-attempts", "5"}, warn: "retries forever"},
		{args: []string{"-consul-retry-backoff", "2s"}, same: func(f result) bool { return f.cfg.Consul.Retry.Backoff == 2*time.Second }},
		{args: []string{"-consul-retry-max-backoff", "30s"}, same: func(f result) bool { return f.cfg.Consul.Retry.MaxBackoff == 30*time.Second }},
		{args: []string{"-consul-ssl"}, same: func(f result) bool { return f.cfg.Consul.SSL.Enabled }},
		{args: []string{"-consul-ssl-ca-cert", "/ca"}, same: func(f result) bool { o := f.cfg.Consul.Options().TLS; return o.CAFile == "/ca" && o.Enable }},
		{args: []string{"-consul-ssl-ca-path", "/cas"}, same: func(f result) bool { return f.cfg.Consul.Options().TLS.CAPath == "/cas" }},
		{args: []string{"-consul-ssl-cert", "/c"}, same: func(f result) bool { return f.cfg.Consul.Options().TLS.CertFile == "/c" }},
		{args: []string{"-consul-ssl-key", "/k"}, same: func(f result) bool { return f.cfg.Consul.Options().TLS.KeyFile == "/k" }},
		{args: []string{"-consul-ssl-server-name", "c.test"}, same: func(f result) bool { return f.cfg.Consul.Options().TLS.ServerName == "c.test" }},
		{args: []string{"-consul-ssl-verify=false"}, same: func(f result) bool { return f.cfg.Consul.Options().TLS.InsecureSkipVerify }},
		{args: []string{"-consul-token", "t"}, same: func(f result) bool { return f.cfg.Consul.Token == "t" }},
		{args: []string{"-consul-token-file", "/tok"}, same: func(f result) bool { return f.cfg.Consul.TokenFile == "/tok" }},
		{args: []string{"-consul-transport-dial-keep-alive", "5s"}, warn: "own HTTP timeouts"},
		{args: []string{"-consul-transport-dial-timeout", "5s"}, warn: "own HTTP timeouts"},
		{args: []string{"-consul-transport-disable-keep-alives"}, warn: "own HTTP timeouts"},
		{args: []string{"-consul-transport-max-idle-conns-per-host", "9"}, warn: "own HTTP timeouts"},
		{args: []string{"-consul-transport-tls-handshake-timeout", "5s"}, warn: "own HTTP timeouts"},
		{args: []string{"-dedup"}, warn: "no de-duplication mode"},
		{args: []string{"-default-left-delimiter", "<<"}, same: func(f result) bool { return f.cfg.TemplateDefaults.LeftDelimiter == "<<" }},
		{args: []string{"-default-right-delimiter", ">>"}, same: func(f result) bool { return f.cfg.TemplateDefaults.RightDelimiter == ">>" }},
		{args: []string{"-dry"}, same: func(f result) bool { return f.fl.dry }},
		{args: []string{"-exec", "app -x"}, same: func(f result) bool {
			return f.cfg.Exec.Command.Shell == "app -x" && slices.Contains(f.cfg.Warnings, bareExecWarning)
		}},
		{args: []string{"-exec", "app", "-exec-kill-signal", "SIGQUIT"}, same: func(f result) bool { return f.cfg.Exec.KillSignal == "SIGQUIT" }},
		{args: []string{"-exec", "app", "-exec-kill-timeout", "3s"}, same: func(f result) bool { return f.cfg.Exec.KillTimeout == 3*time.Second }},
		{args: []string{"-exec", "app", "-exec-reload-signal", "SIGUSR1"}, same: func(f result) bool { return f.cfg.Exec.ReloadSignal == "SIGUSR1" }},
		{args: []string{"-exec", "app", "-exec-splay", "4s"}, same: func(f result) bool { return f.cfg.Exec.Splay == 4*time.Second }},
		{args: []string{"-exec", "app", "-exec-env-pristine"}, same: func(f result) bool { return f.cfg.Exec.Env.Pristine }},
		{args: []string{"-exec", "app", "-exec-env-custom", "A=1", "-exec-env-custom", "B=2"},
			same: func(f result) bool { return slices.Equal(f.cfg.Exec.Env.Custom, []string{"A=1", "B=2"}) }},
		{args: []string{"-exec", "app", "-exec-env-allowlist", "PATH"}, same: func(f result) bool { return slices.Equal(f.cfg.Exec.Env.Allowlist, []string{"PATH"}) }},
		{args: []string{"-exec", "app", "-exec-env-denylist", "AWS_*"}, same: func(f result) bool { return slices.Equal(f.cfg.Exec.Env.Denylist, []string{"AWS_*"}) }},
		{args: []string{"-kill-signal", "SIGTERM"}, same: func(result) bool { return true }}, // ctpl stops on SIGTERM
		{args: []string{"-kill-signal", "SIGQUIT"}, refuse: "ctpl stops on SIGINT and SIGTERM only"},
		{args: []string{"-log-level", "trace"}, same: func(f result) bool { return f.cfg.LogLevel == "debug" }},
		{args: []string{"-log-file", "/var/log/ct.log"}, warn: "logs to stderr only"},
		{args: []string{"-log-rotate-bytes", "100"}, warn: "logs to stderr only"},
		{args: []string{"-log-rotate-duration", "1h"}, warn: "logs to stderr only"},
		{args: []string{"-log-rotate-max-files", "3"}, warn: "logs to stderr only"},
		{args: []string{"-max-stale", "10m"}, same: func(f result) bool { return f.cfg.MaxStale == 10*time.Minute }},
		{args: []string{"-once"}, same: func(f result) bool { return f.fl.once }},
		{args: []string{"-parse-only"}, same: func(f result) bool { return true }}, // `ctpl check` (issue 16)
		{args: []string{"-pid-file", "/run/ct.pid"}, same: func(f result) bool { return f.cfg.PidFile == "/run/ct.pid" }},
		{args: []string{"-reload-signal", "SIGHUP"}, same: func(result) bool { return true }}, // ctpl reloads on SIGHUP
		{args: []string{"-reload-signal", "SIGUSR2"}, refuse: "ctpl reloads on SIGHUP only"},
		{args: []string{"-retry", "3s"}, same: func(f result) bool { return f.cfg.Consul.Retry.Backoff == 3*time.Second }},
		{args: []string{"-syslog"}, warn: "logs to stderr only"},
		{args: []string{"-syslog-facility", "LOCAL5"}, warn: "logs to stderr only"},
		{args: []string{"-syslog-name", "ct"}, warn: "logs to stderr only"},
		{args: []string{"-template", "x.tmpl:/tmp/x:true"}, same: func(f result) bool { return f.cfg.Templates[1].Command.Shell == "true" }},
		{args: []string{"-template-error-fatal=false"}, same: func(f result) bool { return len(f.cfg.Warnings) == 0 }},
		{args: []string{"-template-error-fatal"}, warn: "never exits on a template's error"},
		{args: []string{"-wait", "2s:10s"}, same: func(f result) bool { return f.cfg.Wait.Max == 10*time.Second }},
		{args: []string{"-v"}, same: func(f result) bool { return f.fl.version }},
		{args: []string{"-version"}, same: func(f result) bool { return f.fl.version }},
	}
	for _, name := range vaultFlagNames {
		args := []string{"-" + name}
		if vaultFlags[name] != 'b' {
			args = append(args, map[byte]string{'s': "x", 'd': "1s", 'i': "3"}[vaultFlags[name]])
		}
		tests = append(tests, struct {
			args   []string
			same   func(f result) bool
			warn   string
			refuse string
		}{args: args, warn: "no Vault client"})
	}
	covered := map[string]bool{}
	for _, tc := range tests {
		var name string
		for _, a := range tc.args {
			if strings.HasPrefix(a, "-") {
				name, _, _ = strings.Cut(a[1:], "=")
			}
		}
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			fs, fl := newFlagSet(io.Discard)
			if fs.Lookup(name) == nil && name == "parse-only" {
				t.Skip("-parse-only is `ctpl check`, which issue 16 adds")
			}
			if err := fs.Parse(append([]string{"-template", "in.tmpl:/tmp/out"}, tc.args...)); err != nil {
				t.Fatalf("%s does not parse: %v", name, err)
			}
			covered[name] = true
			cfg, err := loadConfig(fs, fl)
			switch {
			case tc.refuse != "":
				if _, ok := errors.AsType[*flagError](err); !ok || !strings.HasPrefix(err.Error(), "-"+name+": ") ||
					!strings.Contains(err.Error(), tc.refuse) {
					t.Fatalf("err = %v, want a refusal with %q", err, tc.refuse)
				}
				if strings.Count(err.Error(), "\n") > 0 {
					t.Errorf("the refusal is more than one line:\n%s", err)
				}
			case err != nil:
				t.Fatalf("refused: %v", err)
			case tc.warn != "":
				if len(cfg.Warnings) != 1 || !strings.HasPrefix(cfg.Warnings[0], "-"+name+": ") || !strings.Contains(cfg.Warnings[0], tc.warn) {
					t.Fatalf("warnings %q, want one from -%s with %q", cfg.Warnings, name, tc.warn)
				}
			default:
				if !tc.same(result{cfg, fl}) {
					t.Fatalf("the flag did not take effect: %+v", cfg)
				}
			}
		})
	}
	for _, name := range consulTemplateFlagNames {
		if !covered[name] && name != "parse-only" {
			t.Errorf("-%s: not in the table", name)
		}
	}
}

// consulTemplateFlagNames are the flags consul-template v0.41.1's cli.go
// defines, in its order.
var consulTemplateFlagNames = strings.Fields(`config consul-addr consul-auth consul-retry consul-retry-attempts
consul-retry-backoff consul-retry-max-backoff consul-ssl consul-ssl-ca-cert consul-ssl-ca-path consul-ssl-cert
consul-ssl-key consul-ssl-server-name consul-ssl-verify consul-token consul-token-file
consul-transport-dial-keep-alive consul-transport-dial-timeout consul-transport-disable-keep-alives
consul-transport-max-idle-conns-per-host consul-transport-tls-handshake-timeout dedup default-left-delimiter
default-right-delimiter dry exec exec-kill-signal exec-kill-timeout exec-reload-signal exec-splay exec-env-pristine
exec-env-custom exec-env-allowlist exec-env-denylist kill-signal log-level log-file log-rotate-bytes
log-rotate-duration log-rotate-max-files max-stale once parse-only pid-file reload-signal retry syslog
syslog-facility syslog-name template template-error-fatal vault-addr vault-renew-token vault-retry
vault-retry-attempts vault-retry-backoff vault-retry-max-backoff vault-client-user-agent vault-ssl vault-ssl-ca-cert
vault-ssl-ca-path vault-ssl-cert vault-ssl-key vault-ssl-server-name vault-ssl-verify vault-transport-dial-keep-alive
vault-transport-dial-timeout vault-transport-disable-keep-alives vault-transport-max-idle-conns-per-host
vault-transport-max-conns-per-host vault-transport-tls-handshake-timeout vault-token vault-agent-token-file
vault-unwrap-token vault-default-lease-duration wait v version`)

var vaultFlagNames = func() []string {
	var out []string
	for _, n := range consulTemplateFlagNames {
		if strings.HasPrefix(n, "vault-") {
			out = append(out, n)
		}
	}
	return out
}()

// TestBadFlagIsOneLine: an unknown flag is one line with a hint, not the
// usage.
func TestBadFlagIsOneLine(t *testing.T) {
	var stderr syncBuffer
	if code := run(t.Context(), []string{"-consul-adr", "x"}, io.Discard, &stderr); code != exitFlags {
		t.Fatalf("exit %d", code)
	}
	want := "ctpl: flag provided but not defined: -consul-adr (did you mean -consul-addr?); ctpl -h lists the flags\n"
	if stderr.String() != want {
		t.Fatalf("stderr %q, want %q", stderr.String(), want)
	}
}

// TestConvertCommand runs `ctpl convert` on issue 17's sample and loads
// what it wrote.
func TestConvertCommand(t *testing.T) {
	var stdout, stderr syncBuffer
	code := run(t.Context(), []string{"convert", "internal/config/testdata/ct/sample.hcl"}, &stdout, &stderr)
	if code != exitOK || !strings.Contains(stderr.String(), "deduplicate: not supported") {
		t.Fatalf("exit %d; stderr:\n%s", code, stderr.String())
	}
	out := writeFile(t, t.TempDir()+"/ctpl.yaml", stdout.String())
	cfg := config.Default()
	if err := config.LoadFile(&cfg, out); err != nil || cfg.Validate() != nil || len(cfg.Templates) != 2 {
		t.Fatalf("the converted YAML: %v %v\n%s", err, cfg.Validate(), stdout.String())
	}
	if code := run(t.Context(), []string{"convert"}, io.Discard, io.Discard); code != exitFlags {
		t.Errorf("convert without a file: exit %d", code)
	}
}

// TestMigrationDocCoversTheFlags: docs/migration.md's flag table names
// every consul-template flag.
func TestMigrationDocCoversTheFlags(t *testing.T) {
	b, err := os.ReadFile("../../docs/migration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range consulTemplateFlagNames {
		if !strings.Contains(string(b), "`-"+name+"`") && !strings.Contains(string(b), "`-"+name+" ") {
			t.Errorf("docs/migration.md does not list -%s", name)
		}
	}
}
