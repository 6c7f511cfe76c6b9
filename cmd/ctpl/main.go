package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/supervise"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/file"
)

// Exit codes, as consul-template uses them.
const (
	exitOK     = 0
	exitError  = 11
	exitFlags  = 13
	exitRunner = 14
	exitConfig = 15
)

// observerHook, set only by tests, wraps the agent's observer (to stall the
// agent loop, for one).
var observerHook func(renderer.Observer) renderer.Observer

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it parses args, loads the config and runs the
// agent until ctx ends or a signal stops it, returning the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "status" {
		return runStatus(ctx, args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "convert" {
		return runConvert(args[1:], stdout, stderr) // convert.go
	}
	if code, ok := runCISubcommand(ctx, args, stdout, stderr); ok {
		return code
	}
	fs, fl := newFlagSet(stderr)
	ci := addCIFlags(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err, fs, stderr)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ctpl: unexpected arguments: %v\n", fs.Args())
		return exitFlags
	}
	if fl.version {
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	if ci.parseOnly {
		return runCheck(ctx, withoutFlag(args, "parse-only"), stdout, stderr)
	}
	cfg, err := loadConfig(fs, fl)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl: %v\n", err)
		if _, ok := errors.AsType[*flagError](err); ok {
			return exitFlags
		}
		return exitConfig
	}
	log := newLogger(stderr, cfg)
	defer routeStdLog(log)() // stdlog.go
	warnFlags(fs, cfg, log)
	templates, err := cfg.BuildTemplates()
	if err != nil {
		fmt.Fprintf(stderr, "ctpl: %v\n", err) // once: not also as a log line
		return exitConfig
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Error("cannot write the pid file", "error", err)
			return exitError
		}
		defer os.Remove(cfg.PidFile)
	}
	prof, err := startProfiles(fl.cpuProfile, fl.memProfile)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl: %v\n", err)
		return exitFlags
	}
	defer func() {
		if err := prof.stop(); err != nil {
			log.Error("cannot write a profile", "error", err)
		}
	}()
	a := app{fs: fs, fl: fl, ci: ci, cfg: cfg, log: log, stdout: stdout, prof: prof}
	if ci.data != "" {
		return a.serveOffline(ctx, templates)
	}
	return a.serve(ctx, templates)
}

// loadConfig reads the config files in order, then applies the flags.
func loadConfig(fs *flag.FlagSet, fl *flags) (config.Config, error) {
	cfg := config.Default()
	for _, path := range fl.configs {
		if err := config.LoadFile(&cfg, path); err != nil {
			return cfg, err
		}
	}
	if err := fl.apply(fs, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func newLogger(w io.Writer, cfg config.Config) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// app is a running ctpl: what it was started with and what it runs.
type app struct {
	fs     *flag.FlagSet
	fl     *flags
	ci     *ciFlags
	cfg    config.Config
	log    *slog.Logger
	stdout io.Writer
	prof   *profiles
	// topology is what the Consul agent said it is (nil before serve).
	topology *consul.Agent
}

// serve runs the agent until ctx ends, SIGINT or SIGTERM arrives, or, in
// once mode, every template has rendered. SIGHUP reloads the config.
func (a *app) serve(ctx context.Context, templates []renderer.Template) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	o := newOps(a.cfg, a.log)
	policy, _ := watch.ParseUntrustedPolicy(a.cfg.UntrustedStrings) // validated with the config
	copts := a.cfg.Consul.Options()
	copts.Untrusted, copts.MaxStale, copts.Logger = policy, a.cfg.MaxStale, a.log
	copts.FormatChars, _ = watch.ParseFormatCharPolicy(a.cfg.UntrustedFormatChars) // validated with the config
	copts.Observe = o.consulRequest
	copts.PreparedQueryInterval = a.cfg.PreparedQueryInterval
	copts.OneShot = a.fl.once
	copts.Agent = discoverAgent(ctx, copts, a.log)
	a.topology = copts.Agent
	if a.cfg.StateDir != "" && !a.fl.dry {
		if err := renderer.PrepareStateDir(a.cfg.StateDir); err != nil {
			a.log.Error("cannot create the state directory", "error", err)
		}
	}
	cc, err := consul.New(copts)
	if err != nil {
		a.log.Error("cannot set up the Consul client", "error", err)
		return exitConfig
	}
	defer cc.Close()
	src := watch.Route(cc, file.New())
	w := watch.New(ctx, src, watch.Options{
		Wait: a.cfg.BlockQueryWait, BackoffMin: a.cfg.Consul.Retry.Backoff,
		BackoffMax: a.cfg.Consul.Retry.MaxBackoff, Logger: a.log,
	})
	defer w.Close()
	var obs renderer.Observer = o
	if observerHook != nil {
		obs = observerHook(obs)
	}
	opts := renderer.Options{Once: a.fl.once, Dry: a.fl.dry, DryOut: a.stdout, Logger: a.log, Observer: obs}
	a.cfg.SafetyOptions(&opts)
	opts.StaleAfter = a.cfg.ReadyMaxDataAge
	agent := renderer.New(templates, w, opts)
	if a.fl.once {
		// A daemon's config run with -once: not serving metrics is expected,
		// not starting its program is worth a warning.
		if a.cfg.Exec != nil {
			a.log.Warn("exec is ignored with -once: the program is not started")
		}
		if a.cfg.MetricsAddr != "" {
			a.log.Info("metrics_addr is not served with -once", "metrics_addr", a.cfg.MetricsAddr)
		}
		return a.runOnceReaching(ctx, agent, copts)
	}
	o.attach(agent.Status, freshness(w, copts.Agent.Datacenter), cc.OpenConns)
	return a.daemon(ctx, agent, o, tokens{cc: cc, w: w, log: a.log})
}

// daemon runs the agent and the operational side until a signal stops them
// or, with exec on_exit: exit, the child exits.
func (a *app) daemon(ctx context.Context, agent *renderer.Agent, o *ops, tok tokens) int {
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, deferred below
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := o.run(ctx, &wg); err != nil {
		a.log.Error("cannot start", "error", err)
		return exitError
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	done := make(chan error, 1)
	wg.Go(func() {
		err := agent.Run(ctx)
		o.agentStopped()
		done <- err
	})
	wg.Go(func() { tok.follow(ctx) })
	a.log.Info("ctpl running", a.runningAttrs(agent)...) // running.go
	code := exitOK
	for {
		select {
		case <-ctx.Done():
			if err := a.prof.writeHeap(); err != nil {
				a.log.Error("cannot write a profile", "error", err)
			}
			o.stopping()
			a.log.Info("stopping")
			if err := <-done; err != nil {
				a.log.Error("agent stopped", "error", err)
				return a.finish(cancel, &wg, exitRunner)
			}
			return a.finish(cancel, &wg, code)
		case err := <-done:
			o.stopping()
			if err != nil {
				a.log.Error("agent stopped", "error", err)
				return a.finish(cancel, &wg, exitRunner)
			}
			return a.finish(cancel, &wg, code)
		case err := <-o.childErr:
			if ee, ok := errors.AsType[*supervise.ExitError](err); ok {
				code = ee.ExitCode()
			} else if err != nil {
				a.log.Error("exec child", "error", err)
				code = exitRunner
			}
			cancel()
		case <-hup:
			o.reloading()
			tok.reload()
			o.reloaded(a.reload(ctx, agent))
		}
	}
}

func (a *app) runOnce(ctx context.Context, agent *renderer.Agent) int {
	ctx, cancel := context.WithTimeout(ctx, a.fl.onceTimeout)
	defer cancel()
	if err := agent.Run(ctx); err != nil {
		a.log.Error("once run failed", "error", err)
		return onceCode(err)
	}
	return exitOK
}

// reload re-reads the config and templates and returns the new config;
// when they are invalid it logs why, keeps running the old ones and returns
// nil.
func (a *app) reload(ctx context.Context, agent *renderer.Agent) *config.Config {
	a.log.Info("SIGHUP: reloading the configuration")
	cfg, err := loadConfig(a.fs, a.fl)
	if err == nil {
		for _, w := range cfg.Warnings {
			a.log.Warn(w)
		}
		var templates []renderer.Template
		if templates, err = cfg.BuildTemplates(); err == nil {
			if cfg.Consul != a.cfg.Consul {
				a.log.Warn("consul settings changed; they take effect on restart")
			}
			if err := agent.Replace(ctx, templates); err != nil {
				return nil
			}
			a.log.Info("configuration reloaded", "templates", len(templates))
			return &cfg
		}
	}
	a.log.Error("invalid configuration; keeping the running one", "error", err)
	return nil
}
