package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"
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
}

type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(s string) error { *l = append(*l, s); return nil }

func newFlagSet(stderr io.Writer) (*flag.FlagSet, *flags) {
	f := &flags{}
	fs := flag.NewFlagSet("ctpl", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Var(&f.configs, "config", "YAML config `file` (repeatable; later files win)")
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
	fs.StringVar(&f.metricsAddr, "metrics-addr", "", "serve /metrics, /healthz, /readyz and /status on this loopback `address`")
	fs.StringVar(&f.exec, "exec", "", "run and supervise this `command` once every template has rendered")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this `file` until exit (debugging)")
	fs.StringVar(&f.memProfile, "memprofile", "", "write an allocation profile to this `file` at exit (debugging)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ctpl [flags]\n       ctpl status [-addr host:port | -state-dir DIR] [-format table|json]\n\nKeeps files rendered from Consul data and runs commands when they change.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	return fs, f
}

// flagError is a bad flag value: ctpl exits with exitFlags, not exitConfig.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// apply puts the flags that were set over cfg; flags win over files. A bad
// value is a *flagError.
func (f *flags) apply(fs *flag.FlagSet, cfg *Config) error {
	var errs []error
	fs.Visit(func(fl *flag.Flag) {
		if err := f.applyOne(fl.Name, cfg); err != nil {
			errs = append(errs, &flagError{err})
		}
	})
	for _, t := range f.templates {
		tc, err := parseTemplateFlag(t)
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
func (f *flags) applyOne(name string, cfg *Config) error {
	switch name {
	case "consul-addr":
		cfg.Consul.Address = f.consulAddr
	case "consul-token":
		cfg.Consul.Token = f.consulToken
	case "wait":
		w, err := parseWait(f.wait)
		if err != nil {
			return err
		}
		cfg.Wait = w
	case "max-stale":
		cfg.MaxStale = f.maxStale
	case "log-level":
		cfg.LogLevel = f.logLevel
		return prefixed("-log-level", checkLogLevel(f.logLevel))
	case "log-format":
		cfg.LogFormat = f.logFormat
		return prefixed("-log-format", checkLogFormat(f.logFormat))
	case "pid-file":
		cfg.PidFile = f.pidFile
	case "metrics-addr":
		cfg.MetricsAddr = f.metricsAddr
		return prefixed("-metrics-addr", checkMetricsAddr(f.metricsAddr))
	case "once-timeout":
		if f.onceTimeout <= 0 {
			return fmt.Errorf("-once-timeout %s: want a duration above 0", f.onceTimeout)
		}
	case "exec":
		if cfg.Exec == nil {
			cfg.Exec = &ExecConfig{}
		}
		cfg.Exec.Command = CommandConfig{Shell: f.exec}
	}
	return nil
}

func prefixed(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// checkLogLevel accepts what slog.Level reads: debug, info, warn, error
// (and offsets such as info+2).
func checkLogLevel(s string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("log level %q: want debug, info, warn or error", s)
	}
	return nil
}

func checkLogFormat(s string) error {
	switch s {
	case "text", "json":
		return nil
	}
	return fmt.Errorf("log format %q: want text or json", s)
}

// checkMetricsAddr accepts host:port with a port number and a host that is
// empty, localhost or an IP address: what the listener can bind without a
// name lookup.
func checkMetricsAddr(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("%q: want host:port with a port number", s)
	}
	if host != "" && host != "localhost" && net.ParseIP(host) == nil {
		return fmt.Errorf("%q: want an IP address or localhost before the port", s)
	}
	return nil
}

// warnFlags logs what flags that were set expose.
func warnFlags(fs *flag.FlagSet, log *slog.Logger) {
	fs.Visit(func(fl *flag.Flag) {
		if fl.Name == "consul-token" {
			log.Warn("-consul-token shows the token to every user of this host (ps, /proc/PID/cmdline); " +
				"use consul.token_file (or CONSUL_HTTP_TOKEN_FILE) instead")
		}
	})
}

// parseTemplateFlag reads "in:out[:command]".
func parseTemplateFlag(s string) (TemplateConfig, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return TemplateConfig{}, fmt.Errorf("-template %q: want in:out[:command]", s)
	}
	tc := TemplateConfig{Source: parts[0], Destination: parts[1]}
	if len(parts) == 3 {
		tc.Command.Shell = parts[2]
	}
	return tc, nil
}

// parseWait reads "min[:max]"; max defaults to 4 × min.
func parseWait(s string) (WaitConfig, error) {
	lo, hi, hasMax := strings.Cut(s, ":")
	min, err := time.ParseDuration(lo)
	if err != nil {
		return WaitConfig{}, fmt.Errorf("-wait %q: %w", s, err)
	}
	w := WaitConfig{Min: min, Max: 4 * min}
	if hasMax {
		if w.Max, err = time.ParseDuration(hi); err != nil {
			return WaitConfig{}, fmt.Errorf("-wait %q: %w", s, err)
		}
	}
	if w.Max < w.Min {
		return WaitConfig{}, fmt.Errorf("-wait %q: max is below min", s)
	}
	return w, nil
}
