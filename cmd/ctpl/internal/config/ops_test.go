package config

import (
	"slices"
	"syscall"
	"testing"
	"time"

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
			o := cfg.Exec.SupervisorOptions([]string{"PATH=/bin", "HOME=/root", "CONSUL_HTTP_TOKEN=s"})
			if o.ReloadSignal != syscall.SIGUSR2 || o.KillSignal != syscall.SIGINT || o.KillTimeout != 10*time.Second ||
				o.Splay != 2*time.Second || !o.ExitWithChild || o.BackoffMin != 100*time.Millisecond || o.BackoffMax != 5*time.Second {
				t.Errorf("supervisor options: %+v", o)
			}
			if !slices.Equal(o.Env, []string{"A=1"}) {
				t.Errorf("env = %q (pristine: only custom)", o.Env)
			}
			if got := cfg.ExecActions()["inline"]; got != supervise.ActionRestart {
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
			cfg, ok := loadValid(t, tc.yaml, tc.wantErr)
			if !ok {
				return
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

// commands_pass_consul_token gives checks and reloads an environment with
// the token; without it they get none (renderer's default).
func TestCommandsPassConsulToken(t *testing.T) {
	t.Setenv("CONSUL_HTTP_TOKEN", "s3cret")
	for _, pass := range []bool{false, true} {
		cfg := Default()
		cfg.CommandsPassConsulToken = pass
		tpl, err := buildTemplate(cfg, TemplateConfig{Contents: "x", Destination: "/tmp/x", Command: CommandConfig{Shell: "reload"},
			TemplateSafetyConfig: TemplateSafetyConfig{Check: CommandConfig{Shell: "check"}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range [][]string{tpl.Command.Env, tpl.Check.Env} {
			if has := slices.Contains(env, "CONSUL_HTTP_TOKEN=s3cret"); has != pass {
				t.Errorf("commands_pass_consul_token %v: the command's environment has the token: %v", pass, has)
			}
		}
	}
}
