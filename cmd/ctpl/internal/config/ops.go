package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/supervise"
)

// OpsConfig holds the top-level keys of operations: metrics, exec mode (issue 7).
type OpsConfig struct {
	// MetricsAddr is the loopback address of the metrics and status listener
	// (/metrics, /healthz, /readyz, /status); empty: no listener.
	MetricsAddr string `yaml:"metrics_addr"`
	// ReadyMaxDataAge is how long a query may fail before /readyz reports
	// unready (0: 2m).
	ReadyMaxDataAge time.Duration `yaml:"ready_max_data_age"`
	// Exec runs one supervised child (exec mode).
	Exec *ExecConfig `yaml:"exec"`
	// CommandsPassConsulToken lets CONSUL_HTTP_TOKEN and
	// CONSUL_HTTP_TOKEN_FILE reach check and reload commands; by default
	// they get ctpl's environment without them, as the exec child does.
	CommandsPassConsulToken bool `yaml:"commands_pass_consul_token"`
}

// ExecConfig is exec mode: one child started after the first full render.
type ExecConfig struct {
	Command CommandConfig `yaml:"command"`
	// ReloadSignal is sent on a rendered change; empty restarts the child.
	ReloadSignal string `yaml:"reload_signal"`
	// KillSignal (default SIGTERM) stops the child; after KillTimeout
	// (default 30s) its process group is killed.
	KillSignal  string        `yaml:"kill_signal"`
	KillTimeout time.Duration `yaml:"kill_timeout"`
	// Splay delays each signal or restart by a random duration below it.
	Splay time.Duration `yaml:"splay"`
	// OnExit is what a child's death does: restart (default, with backoff)
	// or exit (ctpl exits with the child's code).
	OnExit         string        `yaml:"on_exit"`
	RestartBackoff BackoffConfig `yaml:"restart_backoff"`
	Env            ExecEnvConfig `yaml:"env"`
}

// BackoffConfig bounds a doubling delay.
type BackoffConfig struct {
	Min time.Duration `yaml:"min"`
	Max time.Duration `yaml:"max"`
}

// ExecEnvConfig says which environment variables the child gets; see
// supervise.EnvOptions.
type ExecEnvConfig struct {
	Pristine        bool     `yaml:"pristine"`
	Custom          []string `yaml:"custom"`
	Allowlist       []string `yaml:"allowlist"`
	Denylist        []string `yaml:"denylist"`
	PassConsulToken bool     `yaml:"pass_consul_token"`
}

// TemplateOpsConfig holds the per-template keys of operations (issue 7).
type TemplateOpsConfig struct {
	// ExecAction is what a change of this template's destination does to
	// the exec child: none, signal (default; a restart without
	// reload_signal) or restart.
	ExecAction string `yaml:"exec_action"`
}

// applyOps copies tc's operations settings into t.
func applyOps(cfg Config, tc TemplateConfig, t *renderer.Template) error {
	if cfg.CommandsPassConsulToken {
		env := supervise.Env(supervise.EnvOptions{PassConsulToken: true}, os.Environ())
		t.Command.Env, t.Check.Env = env, env
	}
	_, err := supervise.ParseAction(tc.ExecAction)
	return err
}

// validateOps checks the operations keys.
func (c *Config) validateOps() error {
	var errs []error
	if c.MetricsAddr != "" {
		if err := CheckMetricsAddr(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics_addr: %w", err))
		}
	}
	if c.ReadyMaxDataAge < 0 {
		errs = append(errs, errors.New("ready_max_data_age: must not be negative"))
	}
	for i, t := range c.Templates {
		if _, err := supervise.ParseAction(t.ExecAction); err != nil {
			errs = append(errs, fmt.Errorf("template %d: %w", i+1, err))
		}
	}
	if e := c.Exec; e != nil {
		if e.Command.Shell == "" && len(e.Command.Args) == 0 {
			errs = append(errs, errors.New("exec: needs a command"))
		}
		if e.Command.Shell != "" && len(e.Command.Args) > 0 {
			errs = append(errs, errors.New("exec: command is a string or a list, not both"))
		}
		for key, s := range map[string]string{"reload_signal": e.ReloadSignal, "kill_signal": e.KillSignal} {
			if _, err := ParseSignal(s); err != nil {
				errs = append(errs, fmt.Errorf("exec: %s: %w", key, err))
			}
		}
		switch e.OnExit {
		case "", "restart", "exit":
		default:
			errs = append(errs, fmt.Errorf("exec: on_exit %q: want restart or exit", e.OnExit))
		}
		if e.KillTimeout < 0 || e.Splay < 0 || e.RestartBackoff.Min < 0 || e.RestartBackoff.Max < 0 {
			errs = append(errs, errors.New("exec: durations must not be negative"))
		}
	}
	return errors.Join(errs...)
}

var signals = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT, "KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1, "USR2": syscall.SIGUSR2, "TERM": syscall.SIGTERM, "CONT": syscall.SIGCONT,
	"STOP": syscall.SIGSTOP, "WINCH": syscall.SIGWINCH, "ALRM": syscall.SIGALRM,
}

// ParseSignal reads "SIGHUP", "HUP" or "hup"; "" is 0.
func ParseSignal(s string) (syscall.Signal, error) {
	if s == "" {
		return 0, nil
	}
	if sig, ok := signals[strings.TrimPrefix(strings.ToUpper(s), "SIG")]; ok {
		return sig, nil
	}
	return 0, fmt.Errorf("unknown signal %q", s)
}

// execArgs turns the exec command into argv: a list runs as is; a string
// is split on spaces unless it needs a shell, in which case `sh -c` runs it
// (prefix it with `exec` so signals reach the program, not the shell).
func execArgs(c CommandConfig) []string {
	if len(c.Args) > 0 {
		return c.Args
	}
	s := strings.TrimSpace(c.Shell)
	if strings.ContainsAny(s, "|&;<>()$`\\\"'*?[#~=%{}\n") {
		return []string{"/bin/sh", "-c", s}
	}
	return strings.Fields(s)
}

// SupervisorOptions builds the supervisor's options from the exec config.
func (e *ExecConfig) SupervisorOptions(environ []string) supervise.Options {
	reload, _ := ParseSignal(e.ReloadSignal) // validated
	kill, _ := ParseSignal(e.KillSignal)
	return supervise.Options{
		Args:         execArgs(e.Command),
		ReloadSignal: reload, KillSignal: kill, KillTimeout: e.KillTimeout,
		Splay:         e.Splay,
		ExitWithChild: e.OnExit == "exit",
		BackoffMin:    e.RestartBackoff.Min, BackoffMax: e.RestartBackoff.Max,
		Env: supervise.Env(supervise.EnvOptions{
			Pristine: e.Env.Pristine, Custom: e.Env.Custom, Allow: e.Env.Allowlist, Deny: e.Env.Denylist,
			PassConsulToken: e.Env.PassConsulToken,
		}, environ),
	}
}

// ExecActions maps each template's name (as the renderer reports it) to
// what its changes do to the exec child; two templates of one name get the
// stronger action.
func (c Config) ExecActions() map[string]supervise.Action {
	out := map[string]supervise.Action{}
	for _, tc := range c.Templates {
		name := tc.Source
		if name == "" {
			name = "inline"
		}
		a, _ := supervise.ParseAction(tc.ExecAction) // validated
		out[name] = max(out[name], a)
	}
	return out
}
