package renderer

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// commandRun is one command owed after a destination changed.
type commandRun struct {
	cmd     Command
	timeout time.Duration
	dest    string
	source  string
}

// commandQueue runs the commands owed by render passes on a worker of its
// own, so a slow command never delays rendering. Commands run in the order
// they were queued; a command already waiting is not queued twice, so a burst
// of passes costs one run of each command, which always starts after the
// last write it covers.
type commandQueue struct {
	log  *slog.Logger
	obs  Observer
	wake chan struct{}

	mu      sync.Mutex
	pending []commandRun
	lastErr error
}

func newCommandQueue(log *slog.Logger, obs Observer) *commandQueue {
	return &commandQueue{log: log, obs: obs, wake: make(chan struct{}, 1)}
}

// enqueue adds runs whose command is not already waiting.
func (q *commandQueue) enqueue(runs ...commandRun) {
	if len(runs) == 0 {
		return
	}
	q.mu.Lock()
	for _, r := range runs {
		if !q.waiting(r.cmd.String()) {
			q.pending = append(q.pending, r)
		}
	}
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *commandQueue) waiting(id string) bool {
	for _, p := range q.pending {
		if p.cmd.String() == id {
			return true
		}
	}
	return false
}

// run is the worker: it runs what is queued until ctx ends.
func (q *commandQueue) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.wake:
			q.drain(ctx)
		}
	}
}

// drain runs every queued command, in order, until none is left.
func (q *commandQueue) drain(ctx context.Context) {
	for ctx.Err() == nil {
		q.mu.Lock()
		if len(q.pending) == 0 {
			q.mu.Unlock()
			return
		}
		r := q.pending[0]
		q.pending = q.pending[1:]
		q.mu.Unlock()
		q.exec(ctx, r)
	}
}

func (q *commandQueue) exec(ctx context.Context, r commandRun) {
	log := q.log.With("command", r.cmd.String(), "dest", r.dest)
	res, err := r.cmd.Run(ctx, r.timeout, nil)
	q.obs.Ran(KindReload, r.source, r.cmd.String(), err, res.Duration)
	if len(res.Output) > 0 {
		log.Info("command output", "output", string(res.Output))
	}
	q.mu.Lock()
	q.lastErr = err
	q.mu.Unlock()
	if err != nil {
		log.Error("command failed", "error", err, "duration", res.Duration)
		return
	}
	log.Info("command ran", "duration", res.Duration)
}

// failure returns the error of the last command run, if it failed.
func (q *commandQueue) failure() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.lastErr
}
