package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	fs.BoolVar(&f.logDiff, "log-diff", false, "log a unified diff of every write (at most 16 KiB each)")
	fs.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile to this `file` until exit (debugging)")
	fs.StringVar(&f.memProfile, "memprofile", "", "write an allocation profile to this `file` at exit (debugging)")
	fs.Usage = func() { printUsage(stderr, fs) } // usage.go
	return fs, f
}

// flagError is a bad flag value: ctpl exits with exitFlags, not exitConfig.
type flagError struct{ err error }

func (e *flagError) Error() string { return e.err.Error() }
func (e *flagError) Unwrap() error { return e.err }

// apply puts the flags that were set over cfg; flags win over files. A bad
// value is a *flagError.
func (f *flags) apply(fs *flag.FlagSet, cfg *config.Config) error {
	var errs []error
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
		cfg.LogLevel = f.logLevel
		return prefixed("-log-level", config.CheckLogLevel(f.logLevel))
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
		}
		cfg.Exec.Command = config.CommandConfig{Shell: f.exec}
	}
	return nil
}

func prefixed(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
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
