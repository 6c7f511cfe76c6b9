package main

import (
	"context"
	"errors"
	"log/slog"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/file"
	"github.com/ctpl/ctpl/watch/fixture"
)

// offlineFetchTimeout bounds one offline read (a `file` query reads disk).
const offlineFetchTimeout = 30 * time.Second

// offlineSource opens the data file: the fixture serves every Consul query,
// screened by the config's untrusted-strings policy; files stay local.
func offlineSource(cfg config.Config, ci *ciFlags, log *slog.Logger) (*fixture.File, watch.Source, error) {
	missing, err := fixture.ParseMissing(ci.dataMissing)
	if err != nil {
		return nil, nil, &flagError{err}
	}
	f, err := fixture.Load(ci.data)
	if err != nil {
		return nil, nil, err
	}
	opts := fixture.Options{Missing: missing, Logger: log}
	opts.Untrusted, _ = watch.ParseUntrustedPolicy(cfg.UntrustedStrings)        // validated with the config
	opts.FormatChars, _ = watch.ParseFormatCharPolicy(cfg.UntrustedFormatChars) // validated with the config
	return f, watch.Route(fixture.NewSource(f, opts), file.New()), nil
}

// discardLog is a logger that writes nothing.
var discardLog = slog.New(slog.DiscardHandler)

// serveOffline renders every template once from the data file, as -once
// does from Consul: files are written (or printed with -dry) and commands
// run. A query the file lacks fails before anything is written.
func (a *app) serveOffline(ctx context.Context, templates []renderer.Template) int {
	if !a.fl.once {
		a.log.Error("-data renders once: give -once (and -dry to print instead of writing)")
		return exitFlags
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	_, src, err := offlineSource(a.cfg, a.ci, a.log)
	if err != nil {
		a.log.Error("cannot read the data file", "error", err)
		if _, ok := errors.AsType[*flagError](err); ok {
			return exitFlags
		}
		return exitConfig
	}
	if code := a.checkData(ctx, src); code != exitOK {
		return code
	}
	w := watch.New(ctx, src, watch.Options{Wait: a.cfg.BlockQueryWait, Logger: a.log})
	defer w.Close()
	opts := renderer.Options{Once: true, Dry: a.fl.dry, DryOut: a.stdout, Logger: a.log}
	a.cfg.SafetyOptions(&opts)
	return a.runOnce(ctx, renderer.New(templates, w, opts))
}

// checkData executes fresh copies of the templates against the data file
// and names every query it cannot answer (exit 17) and every template that
// fails (exit 14), before anything is written.
func (a *app) checkData(ctx context.Context, src watch.Source) int {
	tmpls, err := parsedTemplates(a.cfg)
	if err != nil {
		a.log.Error("invalid template", "error", err)
		return exitConfig
	}
	d, err := discover(ctx, tmpls, sourceFetch(src, offlineFetchTimeout))
	if err != nil {
		a.log.Error("the data file cannot answer every query", "error", err)
		return exitNoData
	}
	if len(d.errs) > 0 {
		a.log.Error("template failed", "error", errors.Join(d.errs...))
		return exitRunner
	}
	return exitOK
}

// parsedTemplates parses the configured templates afresh: a discovery
// must not share execution state with the agent's templates.
func parsedTemplates(cfg config.Config) ([]*template.Template, error) {
	ts, err := cfg.BuildTemplates()
	if err != nil {
		return nil, err
	}
	out := make([]*template.Template, len(ts))
	for i, t := range ts {
		out[i] = t.Tmpl
	}
	return out, nil
}

// reachConsul checks that Consul answers at all, retrying for
// -once-connect-timeout: a CI job with no Consul fails at once with its own
// code instead of waiting out -once-timeout.
func (a *app) reachConsul(ctx context.Context, opts consul.Options) int {
	err := consul.Reach(ctx, opts, a.ci.connectWait)
	if code := a.unreachableCode(err, opts); code != exitOK {
		return code
	}
	if err != nil {
		a.log.Warn("cannot check that Consul answers", "error", err)
	}
	return exitOK
}

// runOnceReaching runs the agent once while checking that Consul answers:
// when nothing answers within -once-connect-timeout and the agent has not
// finished (templates that read no Consul data finish without it), the run
// ends with exitUnreachable.
func (a *app) runOnceReaching(ctx context.Context, agent *renderer.Agent, opts consul.Options) int {
	var wg sync.WaitGroup
	defer wg.Wait() // after cancel, deferred below
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	unreachable := make(chan error, 1)
	wg.Go(func() {
		err := consul.Reach(ctx, opts, a.ci.connectWait)
		if (errors.Is(err, consul.ErrUnreachable) || errors.Is(err, consul.ErrACLNotFound)) && ctx.Err() == nil {
			unreachable <- err
			cancel()
		}
	})
	runCtx, stop := context.WithTimeout(ctx, a.fl.onceTimeout)
	defer stop()
	err := agent.Run(runCtx)
	select {
	case uerr := <-unreachable:
		if err != nil {
			return a.unreachableCode(uerr, opts)
		}
	default:
	}
	if err != nil {
		a.log.Error("once run failed", "error", err)
		return onceCode(err)
	}
	return exitOK
}

// unreachableCode logs and returns the exit code of a failed reach: Consul
// unreachable, or a token Consul does not know; exitOK for anything else.
func (a *app) unreachableCode(err error, opts consul.Options) int {
	switch {
	case errors.Is(err, consul.ErrUnreachable):
		a.log.Error("Consul is unreachable", "address", opts.Address, "tried_for", a.ci.connectWait, "error", err)
		return exitUnreachable
	case errors.Is(err, consul.ErrACLNotFound):
		a.log.Error("Consul does not know the ACL token: every query would be refused", "address", opts.Address, "error", err)
		return exitTokenUnknown
	}
	return exitOK
}

// onceCode maps the error of a -once run to its exit code.
func onceCode(err error) int {
	if errors.Is(err, renderer.ErrIncomplete) {
		return exitNoData
	}
	return exitRunner
}
