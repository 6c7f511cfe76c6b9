package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/notify"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/supervise"
	"github.com/ctpl/ctpl/telemetry"
)

// ops is the operational side of a running daemon: systemd notifications,
// metrics and the status listener, the exec child. It observes the agent
// and reads its Status; it never drives rendering.
type ops struct {
	cfg      config.Config
	log      *slog.Logger
	notifier *notify.Notifier
	metrics  *telemetry.Metrics    // nil without metrics_addr
	sup      *supervise.Supervisor // nil without exec
	actions  atomic.Pointer[map[string]supervise.Action]
	poke     chan struct{}
	sources  telemetry.Sources
	ready    atomic.Bool
	childErr chan error               // the supervisor's result, when it ends by itself
	warnings atomic.Pointer[[]string] // the running configuration's, for /status
	stopped  chan struct{}            // closed when the agent has stopped (agentStopped)
}

func newOps(cfg config.Config, log *slog.Logger) *ops {
	o := &ops{
		cfg:      cfg,
		log:      log,
		notifier: notify.New(notify.Options{Logger: log}),
		poke:     make(chan struct{}, 1),
		childErr: make(chan error, 1),
		stopped:  make(chan struct{}),
	}
	o.warnings.Store(&cfg.Warnings)
	o.sources.ConfigWarnings = func() []string { return *o.warnings.Load() }
	if cfg.Exec != nil {
		opts := cfg.Exec.SupervisorOptions(os.Environ())
		opts.Logger = log
		o.sup = supervise.New(opts)
		command := strings.Join(opts.Args, " ")
		o.sources.Exec = func() telemetry.ExecReport {
			return telemetry.ExecReport{Command: command, PID: o.sup.PID(), Starts: o.sup.Starts()}
		}
	}
	if cfg.MetricsAddr != "" {
		src := telemetry.Sources{
			Status:    func() renderer.Status { return o.sources.Status() },
			Freshness: func() map[string]telemetry.Query { return o.freshness() },
			OpenConns: func() int { return o.openConns() },
			Exec:      o.sources.Exec,
		}
		o.metrics = telemetry.NewMetrics(src, telemetry.Build{Version: version, Commit: commitID()})
	}
	o.setActions(cfg)
	return o
}

func (o *ops) setActions(cfg config.Config) {
	m := cfg.ExecActions()
	o.actions.Store(&m)
}

// attach gives ops what it reads: the agent's status and the freshness of
// the queries. Call it before run.
func (o *ops) attach(status func() renderer.Status, fresh func() map[string]telemetry.Query, conns func() int) {
	o.sources.Status, o.sources.Freshness, o.sources.OpenConns = status, fresh, conns
}

func (o *ops) freshness() map[string]telemetry.Query {
	if o.sources.Freshness == nil {
		return nil
	}
	return o.sources.Freshness()
}

func (o *ops) openConns() int {
	if o.sources.OpenConns == nil {
		return 0
	}
	return o.sources.OpenConns()
}

// Rendered implements renderer.Observer.
func (o *ops) Rendered(source, result string, d time.Duration) {
	if o.metrics != nil {
		o.metrics.Rendered(source, result, d)
	}
	if o.sup != nil && result == renderer.ResultWritten {
		o.sup.Changed((*o.actions.Load())[source])
	}
	o.wake()
}

// Ran implements renderer.Observer.
func (o *ops) Ran(kind, source, command string, err error, d time.Duration) {
	if o.metrics != nil {
		o.metrics.Ran(kind, source, command, err, d)
	}
	o.wake()
}

// Tick implements renderer.Observer.
func (o *ops) Tick() {
	o.notifier.Tick()
	o.wake()
}

func (o *ops) wake() {
	select {
	case o.poke <- struct{}{}:
	default:
	}
}

// run starts the listener, the watchdog, the status follower, the exec
// child and the zombie reaper, and waits for all of them when ctx ends.
// A listener that cannot bind is an error before anything starts.
func (o *ops) run(ctx context.Context, wg *sync.WaitGroup) error {
	if o.cfg.MetricsAddr != "" {
		srv := &telemetry.Server{Addr: o.cfg.MetricsAddr, Metrics: o.metrics, Sources: o.sources,
			Version: version, ReadyMaxDataAge: o.cfg.ReadyMaxDataAge, ReadyIgnore: o.readiness().Ignore, Logger: o.log}
		if !telemetry.IsLoopback(o.cfg.MetricsAddr) {
			o.log.Warn("the metrics listener is not on a loopback address", "addr", o.cfg.MetricsAddr)
		}
		ln, err := srv.Listen()
		if err != nil {
			return err
		}
		wg.Go(func() {
			if err := srv.Serve(ctx, ln); err != nil {
				o.log.Error("metrics listener stopped", "error", err)
			}
		})
	}
	wg.Go(func() { o.notifier.RunWatchdog(ctx) })
	wg.Go(func() { o.follow(ctx) })
	wg.Go(func() { supervise.Reap(ctx, o.log) })
	if o.sup != nil {
		wg.Go(func() { o.childErr <- o.sup.Run(ctx) })
		wg.Go(func() { o.forwardSignals(ctx) })
	}
	return nil
}

// follow turns status changes into READY=1 (once), STATUS= lines, the exec
// child's start and the state directory's status file.
func (o *ops) follow(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	// Until ready, look at once and again shortly after each event: the
	// agent publishes its status just after it reports a render. Once
	// ready, the ticker alone refreshes the status: under churn a report
	// per render would cost more than the render.
	// The STATUS= line and the status file, which cost O(queries), are
	// published when the agent becomes ready and at most once a second.
	recheck := time.NewTimer(0)
	defer recheck.Stop()
	sf := newStatusFile(stateDir(o.cfg), o.log)
	var published time.Time
	for {
		select {
		case <-ctx.Done():
			// The agent still runs the reloads it owes: the status file
			// keeps what they did.
			<-o.stopped
			sf.writeStopped(telemetry.NewReport(o.sources, version, o.readiness(), time.Now()))
			return
		case <-o.poke:
			if o.ready.Load() {
				continue
			}
			recheck.Reset(20 * time.Millisecond)
		case <-recheck.C:
		case <-t.C:
		}
		st := o.sources.Status()
		becameReady := st.Ready && !o.ready.Load()
		if !becameReady && time.Since(published) < publishEvery*9/10 {
			continue
		}
		published = time.Now()
		line := statusLine(st, len(o.freshness()))
		if becameReady {
			o.ready.Store(true)
			o.log.Info("every template rendered: ready", "templates", len(st.Templates))
			o.notifier.Ready(line)
			if o.sup != nil {
				o.sup.Start()
			}
		} else {
			o.notifier.Status(line)
		}
		sf.maybeWrite(telemetry.NewReport(o.sources, version, o.readiness(), published))
	}
}

// publishEvery is the least time between two STATUS= lines or status files.
const publishEvery = time.Second

// statusLine is systemd's STATUS= text.
func statusLine(st renderer.Status, queries int) string {
	n := map[string]int{}
	for _, t := range st.Templates {
		n[t.State]++
	}
	s := fmt.Sprintf("%d templates, %d queries, %d held, %d degraded", len(st.Templates), queries,
		n[renderer.StateHeld], n[renderer.StateDegraded])
	for _, state := range []string{renderer.StatePending, renderer.StateFailed} {
		if n[state] > 0 {
			s += fmt.Sprintf(", %d %s", n[state], state)
		}
	}
	if st.Waiting > 0 {
		s += fmt.Sprintf(", waiting for %d of %d queries", st.Waiting, st.Queries)
	}
	return s
}

// forwardSignals passes SIGUSR1, SIGUSR2 and SIGWINCH to the exec child.
func (o *ops) forwardSignals(ctx context.Context) {
	ch := make(chan os.Signal, 4)
	signal.Notify(ch, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(ch)
	for {
		select {
		case <-ctx.Done():
			return
		case sig := <-ch:
			o.sup.Signal(sig)
		}
	}
}

// reloading and reloaded bracket a SIGHUP for systemd; cfg is the new
// configuration when it loaded.
func (o *ops) reloading() { o.notifier.Reloading() }

func (o *ops) reloaded(cfg *config.Config) {
	if cfg != nil {
		o.setActions(*cfg)
		o.warnings.Store(&cfg.Warnings)
		if !reflect.DeepEqual(cfg.Exec, o.cfg.Exec) {
			o.log.Warn("exec settings changed; they take effect on restart (the child keeps running)")
		}
		if cfg.MetricsAddr != o.cfg.MetricsAddr || cfg.ReadyMaxDataAge != o.cfg.ReadyMaxDataAge {
			o.log.Warn("metrics_addr and ready_max_data_age changes take effect on restart")
		}
		warnDCRestart(o.log, o.cfg, *cfg)
	}
	if o.ready.Load() {
		st := o.sources.Status()
		o.notifier.Ready(statusLine(st, len(o.freshness())))
	}
}

func (o *ops) stopping() { o.notifier.Stopping() }

// agentStopped tells ops that the agent has returned: its status is final.
func (o *ops) agentStopped() { close(o.stopped) }
