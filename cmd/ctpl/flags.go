package main

import (
	"flag"
	"fmt"
	"io"
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

// apply puts the flags that were set over cfg; flags win over files.
func (f *flags) apply(fs *flag.FlagSet, cfg *Config) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "consul-addr":
			cfg.Consul.Address = f.consulAddr
		case "consul-token":
			cfg.Consul.Token = f.consulToken
		case "wait":
			if w, werr := parseWait(f.wait); werr != nil {
				err = werr
			} else {
				cfg.Wait = w
			}
		case "max-stale":
			cfg.MaxStale = f.maxStale
		case "log-level":
			cfg.LogLevel = f.logLevel
		case "log-format":
			cfg.LogFormat = f.logFormat
		case "pid-file":
			cfg.PidFile = f.pidFile
		case "metrics-addr":
			cfg.MetricsAddr = f.metricsAddr
		case "exec":
			if cfg.Exec == nil {
				cfg.Exec = &ExecConfig{}
			}
			cfg.Exec.Command = CommandConfig{Shell: f.exec}
		}
	})
	for _, t := range f.templates {
		tc, terr := parseTemplateFlag(t)
		if terr != nil {
			return terr
		}
		cfg.Templates = append(cfg.Templates, tc)
	}
	return err
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
