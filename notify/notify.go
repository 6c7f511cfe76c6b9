package notify

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Options tune a [Notifier].
type Options struct {
	// TickGrace is how old the last Tick may be for the watchdog still to
	// ping (default 2s: the agent loop ticks at least once per second).
	TickGrace time.Duration
	// Logger receives failures to reach the socket (default slog.Default()).
	Logger *slog.Logger
}

// Notifier sends state changes to systemd.
type Notifier struct {
	opts     Options
	log      *slog.Logger
	lastTick atomic.Int64 // unix nanoseconds of the last Tick

	mu         sync.Mutex
	lastStatus string
	failing    bool
}

// New returns a notifier. It reads NOTIFY_SOCKET and WATCHDOG_USEC when it
// sends, and leaves them in the environment.
func New(opts Options) *Notifier {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.TickGrace <= 0 {
		opts.TickGrace = 2 * time.Second
	}
	n := &Notifier{opts: opts, log: opts.Logger}
	n.lastTick.Store(time.Now().UnixNano())
	return n
}

// Ready reports that the service is up (or back up after a reload), with a
// status line.
func (n *Notifier) Ready(status string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lastStatus = status
	n.sendLocked("READY=1\nSTATUS=" + status)
}

// Reloading reports that a configuration reload started; send Ready when it
// is over.
func (n *Notifier) Reloading() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sendLocked("RELOADING=1\n" + daemon.SdNotifyMonotonicUsec())
}

// Stopping reports that the service is shutting down.
func (n *Notifier) Stopping() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sendLocked("STOPPING=1")
}

// Status sends a status line when it differs from the last one sent.
func (n *Notifier) Status(status string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if status == n.lastStatus {
		return
	}
	n.lastStatus = status
	n.sendLocked("STATUS=" + status)
}

// Tick records that the agent loop is alive. It never blocks.
func (n *Notifier) Tick() {
	n.lastTick.Store(time.Now().UnixNano())
}

// RunWatchdog sends WATCHDOG=1 at a quarter of the interval systemd asked for
// (WATCHDOG_USEC, for this process) while the last Tick is recent. Without a
// watchdog it returns at once. It returns when ctx ends.
func (n *Notifier) RunWatchdog(ctx context.Context) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("ignoring the systemd watchdog settings", "error", err)
		return
	}
	if interval <= 0 {
		return
	}
	t := time.NewTicker(max(interval/4, time.Millisecond))
	defer t.Stop()
	stuck := false
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			age := now.Sub(time.Unix(0, n.lastTick.Load()))
			if age > n.opts.TickGrace {
				if !stuck {
					n.log.Error("agent loop stuck: withholding watchdog pings", "last_tick_age", age.Round(time.Millisecond))
				}
				stuck = true
				continue
			}
			if stuck {
				n.log.Info("agent loop alive again: resuming watchdog pings")
			}
			stuck = false
			n.send("WATCHDOG=1")
		}
	}
}

func (n *Notifier) send(state string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sendLocked(state)
}

// sendLocked sends state; it logs once per change between failing and
// working.
func (n *Notifier) sendLocked(state string) {
	_, err := daemon.SdNotify(false, state)
	switch {
	case err != nil && !n.failing:
		n.log.Warn("cannot notify systemd", "error", err)
	case err == nil && n.failing:
		n.log.Info("notifying systemd again")
	}
	n.failing = err != nil
}
