package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
)

// flags are the command-line options, named as consul-template names them.
type flags struct {
	configs     stringList
	templates   stringList
	consulAddr  string
	consulToken string
	once        bool
	dry         bool
	wait        string
	maxStale    time.Duration
	logLevel    string
	logFormat   string
	pidFile     string
	onceTimeout time.Duration
	version     bool
	metricsAddr string
	exec        string
	cpuProfile  string
	memProfile  string
	logDiff     bool
	ct          []config.FlagValue // consul-template's flags, in the order given
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func newFlagSet(stderr io.Writer) (*flag.FlagSet, *flags) {
	f := &flags{}
	fs := flag.NewFlagSet("ctpl", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parseError tells a bad flag in one line
	fs.Var(&f.configs, "config", "config `file` or directory: ctpl YAML, or consul-template HCL or JSON (repeatable; later files win)")
	fs.Var(&f.templates, "template", "template as `in:out[:command]` (repeatable)")
	fs.StringVar(&f.consulAddr, "consul-addr", "", "Consul agent `address` (default: CONSUL_HTTP_ADDR or 127.0.0.1:8500)")
	fs.StringVar(&f.consulToken, "consul-token", "", "Consul ACL `token` (default: CONSUL_HTTP_TOKEN)")
	fs.BoolVar(&f.once, "once", false, "render every template once, run the commands and exit")
	fs.BoolVar(&f.dry, "dry", false, "print rendered templates to stdout; write and run nothing")
	fs.StringVar(&f.wait, "wait", "", "quiescence `min[:max]` before rendering, e.g. 2s:10s")
	fs.DurationVar(&f.maxStale, "max-stale", 0, "allow stale reads up to this `age`")
	fs.StringVar(&f.logLevel, "log-level", "", "`level`: debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "", "log `format`: text or json")
	fs.StringVar(&f.pidFile, "pid-file", "", "write the process ID to this `file`")
	fs.DurationVar(&f.onceTimeout, "once-timeout", 60*time.Second, "with -once, give up after this `duration`")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.version, "v", false, "print the version and exit")
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics, /healthz, /readyz and /status on this loopback `address`")
	fs.StringVar(&f.exec, "exec", "", "run and supervise this `command` once every template has rendered")
	fs.BoolVar(&f.logDiff, "log-diff", false, "log a unified diff of every write (at most 16 KiB each)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this `file` until exit (debugging)")
	fs.StringVar(&f.memProfile, "memprofile", "", "write an allocation profile to this `file` at exit (debugging)")
	fs.Usage = func() {}
	f.addCTFlags(fs)
	return fs, f
}

// parseError reports a flag that does not parse in one line, with the
// closest flag's name for a typo; -h prints the usage.
func parseError(err error, fs *flag.FlagSet, stderr io.Writer) int {
	if errors.Is(err, flag.ErrHelp) {
		printUsage(stderr, ownFlags(fs, stderr)) // usage.go
		fmt.Fprintln(stderr, "\nconsul-template's other flags are accepted too: docs/migration.md says what each does in ctpl.")
		return exitOK
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		name = strings.TrimLeft(name, "-")
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		if now := renamedCTFlag(name); now != "" && fs.Lookup(now) != nil {
			msg += fmt.Sprintf(" (consul-template's name for -%s before v0.19, which v0.41.1 refuses too)", now)
		} else if s := config.Suggest(name, names); s != "" {
			msg += fmt.Sprintf(" (did you mean -%s?)", s)
		}
	}
	fmt.Fprintf(stderr, "ctpl: %s; ctpl -h lists the flags\n", msg)
	return exitFlags
}

// renamedCTFlag is the flag consul-template v0.18 renamed name to (and
// v0.19 stopped accepting name), or "".
func renamedCTFlag(name string) string {
	switch {
	case name == "consul":
		return "consul-addr"
	case name == "auth", name == "token", strings.HasPrefix(name, "ssl"):
		return "consul-" + name
	}
	return ""
}

// flagError is a bad flag value: ctpl exits with exitFlags, not exitConfig.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// apply puts the flags that were set over cfg; flags win over files. A bad
// value is a *flagError.
func (f *flags) apply(fs *flag.FlagSet, cfg *config.Config) error {
	var errs []error
	if err := config.ApplyFlags(cfg, f.ct); err != nil {
		errs = append(errs, &flagError{err})
	}
	fs.Visit(func(fl *flag.Flag) {
		if err := f.applyOne(fl.Name, cfg); err != nil {
			errs = append(errs, &flagError{err})
		}
	})
	for _, t := range f.templates {
		tc, err := config.ParseTemplateFlag(t)
		if err != nil {
			errs = append(errs, &flagError{err})
			continue
		}
		cfg.Templates = append(cfg.Templates, tc)
	}
	return errors.Join(errs...)
}

// applyOne puts the flag called name over cfg, checking its value as the
// config would.
func (f *flags) applyOne(name string, cfg *config.Config) error {
	switch name {
	case "consul-addr":
		cfg.Consul.Address = f.consulAddr
	case "consul-token":
		cfg.Consul.Token = f.consulToken
	case "wait":
		w, err := config.ParseWait(f.wait)
		if err != nil {
			return fmt.Errorf("-wait %w", err)
		}
		cfg.Wait = w
	case "max-stale":
		cfg.MaxStale = f.maxStale
	case "log-level":
		cfg.LogLevel = config.CTLogLevel(f.logLevel)
		return prefixed("-log-level", config.CheckLogLevel(cfg.LogLevel))
	case "log-format":
		cfg.LogFormat = f.logFormat
		return prefixed("-log-format", config.CheckLogFormat(f.logFormat))
	case "pid-file":
		cfg.PidFile = f.pidFile
	case "metrics-addr":
		cfg.MetricsAddr = f.metricsAddr
		return prefixed("-metrics-addr", config.CheckMetricsAddr(f.metricsAddr))
	case "once-timeout":
		if f.onceTimeout <= 0 {
			return fmt.Errorf("-once-timeout %s: want a duration above 0", f.onceTimeout)
		}
	case "log-diff":
		cfg.LogDiff = f.logDiff
	case "exec":
		if cfg.Exec == nil {
			cfg.Exec = &config.ExecConfig{}
			cfg.Warnings = append(cfg.Warnings, bareExecWarning)
		}
		cfg.Exec.Command = config.CommandConfig{Shell: f.exec}
	}
	return nil
}

// bareExecWarning says how a bare -exec differs from consul-template's.
const bareExecWarning = "-exec: ctpl restarts the child when it exits and stops it with SIGTERM; " +
	"consul-template exits with it and stops it with SIGINT: for that, set exec.on_exit: exit and " +
	"-exec-kill-signal SIGINT (or exec.kill_signal); see docs/migration.md#exec"

func prefixed(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// warnFlags logs what flags that were set expose, and what loading the
// configuration warned about (consul-template keys and flags ctpl ignores).
func warnFlags(fs *flag.FlagSet, cfg config.Config, log *slog.Logger) {
	for _, w := range cfg.Warnings {
		log.Warn(w)
	}
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "consul-token" {
			log.Warn("-consul-token shows the token to every user of this host (ps, /proc/PID/cmdline); " +
				"use consul.token_file (or CONSUL_HTTP_TOKEN_FILE) instead")
		}
	})
}

// ctFlag is a flag of consul-template's that ctpl reads as the
// consul-template key it sets (config.ApplyFlags translates it as in a
// config file). kind is s (string), b (bool), i (int), d (duration) or
// l (repeatable, a list).
type ctFlag struct {
	name, key string
	kind      byte
}

// ctFlags are consul-template v0.41.1's flags beyond those ctpl has of its
// own (-config, -template, -consul-addr, -consul-token, -once, -dry, -wait,
// -max-stale, -log-level, -pid-file, -exec, -v, -version).
var ctFlags = []ctFlag{
	{"consul-auth", "consul.auth", 's'},
	{"consul-retry", "consul.retry.enabled", 'b'},
	{"consul-retry-attempts", "consul.retry.attempts", 'i'},
	{"consul-retry-backoff", "consul.retry.backoff", 'd'},
	{"consul-retry-max-backoff", "consul.retry.max_backoff", 'd'},
	{"retry", "consul.retry.backoff", 'd'},
	{"consul-ssl", "consul.ssl.enabled", 'b'},
	{"consul-ssl-ca-cert", "consul.ssl.ca_cert", 's'},
	{"consul-ssl-ca-path", "consul.ssl.ca_path", 's'},
	{"consul-ssl-cert", "consul.ssl.cert", 's'},
	{"consul-ssl-key", "consul.ssl.key", 's'},
	{"consul-ssl-server-name", "consul.ssl.server_name", 's'},
	{"consul-ssl-verify", "consul.ssl.verify", 'b'},
	{"consul-token-file", "consul.token_file", 's'},
	{"consul-transport-dial-keep-alive", "consul.transport.dial_keep_alive", 'd'},
	{"consul-transport-dial-timeout", "consul.transport.dial_timeout", 'd'},
	{"consul-transport-disable-keep-alives", "consul.transport.disable_keep_alives", 'b'},
	{"consul-transport-max-idle-conns-per-host", "consul.transport.max_idle_conns_per_host", 'i'},
	{"consul-transport-tls-handshake-timeout", "consul.transport.tls_handshake_timeout", 'd'},
	{"dedup", "deduplicate", 'b'},
	{"default-left-delimiter", "default_delimiters.left", 's'},
	{"default-right-delimiter", "default_delimiters.right", 's'},
	{"exec-kill-signal", "exec.kill_signal", 's'},
	{"exec-kill-timeout", "exec.kill_timeout", 'd'},
	{"exec-reload-signal", "exec.reload_signal", 's'},
	{"exec-splay", "exec.splay", 'd'},
	{"exec-env-pristine", "exec.env.pristine", 'b'},
	{"exec-env-custom", "exec.env.custom", 'l'},
	{"exec-env-allowlist", "exec.env.allowlist", 'l'},
	{"exec-env-denylist", "exec.env.denylist", 'l'},
	{"kill-signal", "kill_signal", 's'},
	{"reload-signal", "reload_signal", 's'},
	{"log-file", "log_file", 's'},
	{"log-rotate-bytes", "log_file", 'i'},
	{"log-rotate-duration", "log_file", 'd'},
	{"log-rotate-max-files", "log_file", 'i'},
	{"syslog", "syslog", 'b'},
	{"syslog-facility", "syslog", 's'},
	{"syslog-name", "syslog", 's'},
	{"template-error-fatal", "template_error_fatal", 'b'},
}

// vaultFlags are consul-template's Vault flags: ctpl has no Vault client,
// so each warns as the vault block does. The bool ones take no value.
var vaultFlags = map[string]byte{
	"vault-addr": 's', "vault-agent-token-file": 's', "vault-client-user-agent": 's', "vault-default-lease-duration": 'd',
	"vault-renew-token": 'b', "vault-retry": 'b', "vault-retry-attempts": 'i', "vault-retry-backoff": 'd',
	"vault-retry-max-backoff": 'd', "vault-ssl": 'b', "vault-ssl-ca-cert": 's', "vault-ssl-ca-path": 's',
	"vault-ssl-cert": 's', "vault-ssl-key": 's', "vault-ssl-server-name": 's', "vault-ssl-verify": 'b',
	"vault-token": 's', "vault-transport-dial-keep-alive": 'd', "vault-transport-dial-timeout": 'd',
	"vault-transport-disable-keep-alives": 'b', "vault-transport-max-conns-per-host": 'i',
	"vault-transport-max-idle-conns-per-host": 'i', "vault-transport-tls-handshake-timeout": 'd',
	"vault-unwrap-token": 'b',
}

// addCTFlags defines consul-template's flags; each one given is recorded in
// f.ct with its value.
func (f *flags) addCTFlags(fs *flag.FlagSet) {
	all := slices.Clone(ctFlags)
	for name, kind := range vaultFlags {
		all = append(all, ctFlag{name, "vault", kind})
	}
	for _, c := range all {
		usage := "consul-template's -" + c.name + " (docs/migration.md)"
		record := func(v any) {
			if c.kind == 'l' {
				for i := range f.ct {
					if f.ct[i].Name == c.name {
						f.ct[i].Value = append(f.ct[i].Value.([]string), v.(string))
						return
					}
				}
				v = []string{v.(string)}
			}
			f.ct = append(f.ct, config.FlagValue{Name: c.name, Key: c.key, Value: v})
		}
		switch c.kind {
		case 'b':
			fs.BoolFunc(c.name, usage, func(s string) error {
				b, err := strconv.ParseBool(s)
				if err != nil {
					return errors.New("want true or false")
				}
				record(b)
				return nil
			})
		case 'i':
			fs.Func(c.name, usage, func(s string) error {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					return errors.New("want a whole number")
				}
				record(n)
				return nil
			})
		default:
			fs.Func(c.name, usage, func(s string) error { record(s); return nil })
		}
	}
}

// ownFlags is fs without consul-template's flags, for -h: those are listed
// in docs/migration.md.
func ownFlags(fs *flag.FlagSet, w io.Writer) *flag.FlagSet {
	own := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
	ct := map[string]bool{}
	for _, c := range ctFlags {
		ct[c.name] = true
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !ct[f.Name] && vaultFlags[f.Name] == 0 {
			own.Var(f.Value, f.Name, f.Usage)
		}
	})
	own.SetOutput(w)
	return own
}
