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
	"syscall"

	"github.com/ctpl/ctpl/renderer"
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

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program: it parses args, loads the config and runs the
// agent until ctx ends or a signal stops it, returning the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, fl := newFlagSet(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitFlags
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ctpl: unexpected arguments: %v\n", fs.Args())
		return exitFlags
	}
	if fl.version {
		fmt.Fprintln(stdout, versionString())
		return exitOK
	}
	cfg, err := loadConfig(fs, fl)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl: %v\n", err)
		return exitConfig
	}
	log := newLogger(stderr, cfg)
	templates, err := buildTemplates(cfg)
	if err != nil {
		log.Error("invalid template", "error", err)
		fmt.Fprintf(stderr, "ctpl: %v\n", err)
		return exitConfig
	}
	if cfg.PidFile != "" {
		if err := os.WriteFile(cfg.PidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Error("cannot write the pid file", "error", err)
			return exitError
		}
		defer os.Remove(cfg.PidFile)
	}
	a := app{fs: fs, fl: fl, cfg: cfg, log: log, stdout: stdout}
	return a.serve(ctx, templates)
}

// loadConfig reads the config files in order, then applies the flags.
func loadConfig(fs *flag.FlagSet, fl *flags) (Config, error) {
	cfg := DefaultConfig()
	for _, path := range fl.configs {
		if err := LoadFile(&cfg, path); err != nil {
			return cfg, err
		}
	}
	if err := fl.apply(fs, &cfg); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

func newLogger(w io.Writer, cfg Config) *slog.Logger {
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
	cfg    Config
	log    *slog.Logger
	stdout io.Writer
}

// serve runs the agent until ctx ends, SIGINT or SIGTERM arrives, or, in
// once mode, every template has rendered. SIGHUP reloads the config.
func (a *app) serve(ctx context.Context, templates []renderer.Template) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	policy, _ := watch.ParseUntrustedPolicy(a.cfg.UntrustedStrings) // validated with the config
	copts := a.cfg.Consul.consulOptions()
	copts.Untrusted, copts.MaxStale, copts.Logger = policy, a.cfg.MaxStale, a.log
	cc, err := consul.New(copts)
	if err != nil {
		a.log.Error("cannot set up the Consul client", "error", err)
		return exitConfig
	}
	src := watch.Route(cc, file.New())
	w := watch.New(ctx, src, watch.Options{
		Wait: a.cfg.BlockQueryWait, BackoffMin: a.cfg.Consul.Retry.Backoff,
		BackoffMax: a.cfg.Consul.Retry.MaxBackoff, Logger: a.log,
	})
	defer w.Close()
	agent := renderer.New(templates, w, renderer.Options{
		Once: a.fl.once, Dry: a.fl.dry, DryOut: a.stdout, Logger: a.log,
	})
	if a.fl.once {
		return a.runOnce(ctx, agent)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx) }()
	a.log.Info("ctpl running", "templates", len(templates))
	for {
		select {
		case err := <-done:
			if err != nil {
				a.log.Error("agent stopped", "error", err)
				return exitRunner
			}
			a.log.Info("ctpl stopped")
			return exitOK
		case <-hup:
			a.reload(ctx, agent)
		}
	}
}

func (a *app) runOnce(ctx context.Context, agent *renderer.Agent) int {
	ctx, cancel := context.WithTimeout(ctx, a.fl.onceTimeout)
	defer cancel()
	if err := agent.Run(ctx); err != nil {
		a.log.Error("once run failed", "error", err)
		return exitRunner
	}
	return exitOK
}

// reload re-reads the config and templates; when they are invalid it logs
// why and keeps running the old ones.
func (a *app) reload(ctx context.Context, agent *renderer.Agent) {
	a.log.Info("SIGHUP: reloading the configuration")
	cfg, err := loadConfig(a.fs, a.fl)
	if err == nil {
		var templates []renderer.Template
		if templates, err = buildTemplates(cfg); err == nil {
			if cfg.Consul != a.cfg.Consul {
				a.log.Warn("consul settings changed; they take effect on restart")
			}
			if err := agent.Replace(ctx, templates); err == nil {
				a.log.Info("configuration reloaded", "templates", len(templates))
			}
			return
		}
	}
	a.log.Error("invalid configuration; keeping the running one", "error", err)
}
