package supervise

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Action is what a rendered change asks of the child.
type Action int

// Actions, weakest first: a restart covers a signal.
const (
	ActionNone    Action = iota // leave the child alone
	ActionSignal                // send the reload signal (restart when there is none)
	ActionRestart               // stop and start the child
)

// ParseAction reads "none", "signal" or "restart"; "" is signal.
func ParseAction(s string) (Action, error) {
	switch s {
	case "", "signal":
		return ActionSignal, nil
	case "none":
		return ActionNone, nil
	case "restart":
		return ActionRestart, nil
	}
	return ActionNone, fmt.Errorf("exec_action %q: want none, signal or restart", s)
}

// Options tune a [Supervisor].
type Options struct {
	// Args is the child's argv; Args[0] is looked up in PATH.
	Args []string
	// Env is the child's whole environment (see [Env]).
	Env []string
	// ReloadSignal is sent on a rendered change; nil restarts the child.
	ReloadSignal syscall.Signal
	// KillSignal stops the child (default SIGTERM); after KillTimeout
	// (default 30s) its process group gets SIGKILL.
	KillSignal  syscall.Signal
	KillTimeout time.Duration
	// Splay delays each signal or restart by a random duration below it.
	Splay time.Duration
	// ExitWithChild makes Run return an *ExitError when the child exits
	// instead of restarting it.
	ExitWithChild bool
	// BackoffMin and BackoffMax bound the delay before a restart after the
	// child died (default 1s and 30s); the delay doubles while the child keeps
	// dying within BackoffMax of its start.
	BackoffMin, BackoffMax time.Duration
	// Stdout and Stderr receive the child's output (default os.Stdout,
	// os.Stderr).
	Stdout, Stderr io.Writer
	// Logger receives the supervisor's log lines (default slog.Default()).
	Logger *slog.Logger
}

// ExitError is returned by Run when the child exited and ExitWithChild is
// set. Code is the child's exit code, or 128+signal when a signal killed it.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("child exited with code %d", e.Code) }

// ExitCode returns the child's exit code.
func (e *ExitError) ExitCode() int { return e.Code }

// Supervisor runs one child process.
type Supervisor struct {
	opts    Options
	log     *slog.Logger
	start   chan struct{}
	once    sync.Once
	changes chan Action
	signals chan os.Signal
	pid     atomic.Int64
	starts  atomic.Int64
}

// New returns a supervisor; nothing runs until Run and Start.
func New(opts Options) *Supervisor {
	if opts.KillSignal == 0 {
		opts.KillSignal = syscall.SIGTERM
	}
	if opts.KillTimeout <= 0 {
		opts.KillTimeout = 30 * time.Second
	}
	if opts.BackoffMin <= 0 {
		opts.BackoffMin = time.Second
	}
	if opts.BackoffMax < opts.BackoffMin {
		opts.BackoffMax = max(30*time.Second, opts.BackoffMin)
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &Supervisor{
		opts:    opts,
		log:     opts.Logger.With("command", fmt.Sprint(opts.Args)),
		start:   make(chan struct{}),
		changes: make(chan Action, 1),
		signals: make(chan os.Signal, 8),
	}
}

// Start lets Run start the child (after the first full render). Later calls
// do nothing.
func (s *Supervisor) Start() { s.once.Do(func() { close(s.start) }) }

// Changed asks for action after a rendered change. Requests made while one is
// pending merge into the strongest. It never blocks.
func (s *Supervisor) Changed(a Action) {
	if a == ActionNone {
		return
	}
	for {
		select {
		case s.changes <- a:
			return
		case prev := <-s.changes:
			a = max(a, prev)
		}
	}
}

// Signal forwards sig to the running child; without a child it is dropped.
// It never blocks.
func (s *Supervisor) Signal(sig os.Signal) {
	select {
	case s.signals <- sig:
	default:
		s.log.Warn("signal dropped: too many pending", "signal", sig)
	}
}

// PID returns the running child's process ID, or 0.
func (s *Supervisor) PID() int { return int(s.pid.Load()) }

// Starts returns how many times the child was started.
func (s *Supervisor) Starts() int { return int(s.starts.Load()) }

// Run waits for Start, then keeps the child running until ctx ends; it then
// stops the child and returns nil. With ExitWithChild it returns an
// *ExitError when the child exits by itself.
func (s *Supervisor) Run(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case <-s.start:
	}
	failures := 0
	for ctx.Err() == nil {
		c, err := s.spawn()
		if err != nil {
			if s.opts.ExitWithChild {
				return fmt.Errorf("exec: %w", err)
			}
			s.log.Error("cannot start the child; retrying", "error", err)
			failures++
			if sleep(ctx, backoff(s.opts.BackoffMin, s.opts.BackoffMax, failures)) != nil {
				return nil
			}
			continue
		}
		why := s.watch(ctx, c)
		switch {
		case why == endStopped:
			return nil
		case why == endRestart:
			failures = 0
			continue
		}
		code := c.exitCode()
		if s.opts.ExitWithChild {
			s.log.Info("child exited; exiting with its code", "code", code)
			return &ExitError{Code: code}
		}
		if time.Since(c.started) > s.opts.BackoffMax {
			failures = 0
		}
		failures++
		delay := backoff(s.opts.BackoffMin, s.opts.BackoffMax, failures)
		s.log.Warn("child exited; restarting", "code", code, "restart_in", delay.Round(time.Millisecond))
		if sleep(ctx, delay) != nil {
			return nil
		}
	}
	return nil
}

type end int

const (
	endExited end = iota
	endRestart
	endStopped
)

// watch supervises one child until it exits, a restart is due or ctx ends.
func (s *Supervisor) watch(ctx context.Context, c *child) end {
	var (
		splay   <-chan time.Time
		pending Action
	)
	for {
		select {
		case <-ctx.Done():
			s.stop(c)
			return endStopped
		case <-c.done:
			s.pid.Store(0)
			c.killGroup()
			return endExited
		case sig := <-s.signals:
			s.log.Info("forwarding a signal to the child", "signal", sig)
			if ss, ok := sig.(syscall.Signal); ok {
				c.signal(ss)
			}
		case a := <-s.changes:
			pending = max(pending, a)
			if splay != nil {
				continue
			}
			if s.opts.Splay <= 0 {
				if s.act(c, pending) {
					return endRestart
				}
				pending = ActionNone
				continue
			}
			splay = time.After(rand.N(s.opts.Splay))
		case <-splay:
			splay = nil
			if s.act(c, pending) {
				return endRestart
			}
			pending = ActionNone
		}
	}
}

// act applies a; it reports whether the child was stopped for a restart.
func (s *Supervisor) act(c *child, a Action) bool {
	if a == ActionSignal && s.opts.ReloadSignal != 0 {
		s.log.Info("rendered change: signalling the child", "signal", s.opts.ReloadSignal)
		c.signal(s.opts.ReloadSignal)
		return false
	}
	s.log.Info("rendered change: restarting the child")
	s.stop(c)
	return true
}

// stop sends the kill signal, waits up to KillTimeout, then kills the
// process group and the child's other descendants found in /proc before the
// signal (those that left its group with setsid); it returns once the child
// has been reaped.
func (s *Supervisor) stop(c *child) {
	found := descendants("/proc", c.cmd.Process.Pid)
	defer killFound("/proc", found)
	began := time.Now()
	c.signal(s.opts.KillSignal)
	t := time.NewTimer(s.opts.KillTimeout)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		s.log.Warn("child ignored the kill signal; killing its process group",
			"signal", s.opts.KillSignal, "timeout", s.opts.KillTimeout)
	}
	c.killGroup()
	<-c.done
	s.pid.Store(0)
	s.log.Info("child stopped", "pid", c.cmd.Process.Pid, "code", c.exitCode(),
		"took", time.Since(began).Round(time.Millisecond))
}

func backoff(lo, hi time.Duration, failures int) time.Duration {
	d := lo
	for i := 1; i < failures && d < hi; i++ {
		d *= 2
	}
	return min(d, hi)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

var errNoArgs = errors.New("no command")

// child is one started process.
type child struct {
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{} // closed when Wait returned
	err     error
}

func (s *Supervisor) spawn() (*child, error) {
	if len(s.opts.Args) == 0 {
		return nil, errNoArgs
	}
	// A change asked for before this start is covered by it: the new child
	// reads the files as they are now.
	select {
	case <-s.changes:
	default:
	}
	cmd := exec.Command(s.opts.Args[0], s.opts.Args[1:]...)
	cmd.Env = s.opts.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = s.opts.Stdout, s.opts.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, started: time.Now(), done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	s.pid.Store(int64(cmd.Process.Pid))
	s.starts.Add(1)
	s.log.Info("child started", "pid", cmd.Process.Pid)
	return c, nil
}

func (c *child) signal(sig syscall.Signal) {
	_ = c.cmd.Process.Signal(sig)
}

// killGroup kills whatever is left of the child's process group.
func (c *child) killGroup() {
	_ = syscall.Kill(-c.cmd.Process.Pid, syscall.SIGKILL)
}

// exitCode is valid after done is closed.
func (c *child) exitCode() int {
	var ee *exec.ExitError
	if errors.As(c.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	if c.err != nil {
		return 1
	}
	return 0
}
