package main

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/supervise"
)

func TestOpsConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, cfg Config)
	}{
		{name: "full exec block", yaml: `
metrics_addr: 127.0.0.1:9469
ready_max_data_age: 90s
exec:
  command: ["/usr/sbin/haproxy", "-W", "-f", "/etc/haproxy/haproxy.cfg"]
  reload_signal: SIGUSR2
  kill_signal: int
  kill_timeout: 10s
  splay: 2s
  on_exit: exit
  restart_backoff: {min: 100ms, max: 5s}
  env: {pristine: true, custom: [A=1], allowlist: [PATH], denylist: [AWS_*], pass_consul_token: true}
templates:
  - {contents: x, destination: /tmp/x, exec_action: restart}
`, check: func(t *testing.T, cfg Config) {
			if cfg.MetricsAddr != "127.0.0.1:9469" || cfg.ReadyMaxDataAge != 90*time.Second {
				t.Errorf("metrics: %q %v", cfg.MetricsAddr, cfg.ReadyMaxDataAge)
			}
			o := supervisorOptions(cfg.Exec, []string{"PATH=/bin", "HOME=/root", "CONSUL_HTTP_TOKEN=s"})
			if o.ReloadSignal != syscall.SIGUSR2 || o.KillSignal != syscall.SIGINT || o.KillTimeout != 10*time.Second ||
				o.Splay != 2*time.Second || !o.ExitWithChild || o.BackoffMin != 100*time.Millisecond || o.BackoffMax != 5*time.Second {
				t.Errorf("supervisor options: %+v", o)
			}
			if !slices.Equal(o.Env, []string{"A=1"}) {
				t.Errorf("env = %q (pristine: only custom)", o.Env)
			}
			if got := execActions(cfg)["inline"]; got != supervise.ActionRestart {
				t.Errorf("exec_action = %v", got)
			}
		}},
		{name: "no exec command", yaml: "exec: {reload_signal: HUP}\n", wantErr: "exec: needs a command"},
		{name: "unknown signal", yaml: "exec: {command: app, reload_signal: SIGNOPE}\n", wantErr: `reload_signal: unknown signal "SIGNOPE"`},
		{name: "bad on_exit", yaml: "exec: {command: app, on_exit: panic}\n", wantErr: `on_exit "panic"`},
		{name: "bad exec_action", yaml: "templates: [{contents: x, destination: /tmp/x, exec_action: reboot}]\n", wantErr: `exec_action "reboot"`},
		{name: "negative age", yaml: "ready_max_data_age: -1s\n", wantErr: "ready_max_data_age"},
		{name: "unknown exec key", yaml: "exec: {command: app, restart: always}\n", wantErr: "restart"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.yaml")
			y := tc.yaml
			if !strings.Contains(y, "templates:") {
				y += "templates: [{contents: x, destination: /tmp/x}]\n"
			}
			if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg := DefaultConfig()
			err := LoadFile(&cfg, path)
			if err == nil {
				err = errors.Join(cfg.Validate(), cfg.validateOps())
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
		})
	}
}

func TestExecArgs(t *testing.T) {
	tests := []struct {
		name string
		cmd  CommandConfig
		want []string
	}{
		{name: "list runs as is", cmd: CommandConfig{Args: []string{"app", "-c", "a b"}}, want: []string{"app", "-c", "a b"}},
		{name: "plain string is split", cmd: CommandConfig{Shell: "  app -c /etc/app.conf "}, want: []string{"app", "-c", "/etc/app.conf"}},
		{name: "shell syntax runs under sh", cmd: CommandConfig{Shell: "exec app > /tmp/log"}, want: []string{"/bin/sh", "-c", "exec app > /tmp/log"}},
		{name: "quotes need the shell", cmd: CommandConfig{Shell: `app -name "a b"`}, want: []string{"/bin/sh", "-c", `app -name "a b"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := execArgs(tc.cmd); !slices.Equal(got, tc.want) {
				t.Errorf("execArgs = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestMetricsListenerErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tmpl := writeFile(t, filepath.Join(t.TempDir(), "t.tmpl"), "x")
	tests := []struct {
		name, addr string
		code       int
		log        string
	}{
		{name: "not an address", addr: "127.0.0.1:notaport", code: exitFlags, log: "-metrics-addr"},
		{name: "no port", addr: "127.0.0.1", code: exitFlags, log: "-metrics-addr"},
		{name: "in use", addr: busy.Addr().String(), code: exitError, log: "address already in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncBuffer
			code := run(t.Context(), []string{"-template", tmpl + ":" + tmpl + ".out", "-metrics-addr", tc.addr,
				"-consul-addr", "127.0.0.1:1"}, &syncBuffer{}, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.log) {
				t.Fatalf("exit %d, want %d with %q; log:\n%s", code, tc.code, tc.log, stderr.String())
			}
		})
	}
}

func TestStatusLine(t *testing.T) {
	tests := []struct {
		name   string
		states []string
		want   string
	}{
		{name: "all ok", states: []string{"ok", "ok"}, want: "2 templates, 5 queries, 0 held, 0 degraded"},
		{name: "mixed", states: []string{"ok", "held", "degraded", "pending", "failed", "held"},
			want: "6 templates, 5 queries, 2 held, 1 degraded, 1 pending, 1 failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var st renderer.Status
			for _, s := range tc.states {
				st.Templates = append(st.Templates, renderer.TemplateStatus{State: s})
			}
			if got := statusLine(st, 5); got != tc.want {
				t.Errorf("statusLine = %q, want %q", got, tc.want)
			}
		})
	}
}
