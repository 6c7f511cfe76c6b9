package template

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The defaults of [Options.MaxOutput] and [Options.MaxRenderTime].
const (
	DefaultMaxOutput     = 64 << 20
	DefaultMaxRenderTime = 30 * time.Second
)

// MaxExecuteDepth is how deep executeTemplate calls may nest. text/template
// bounds {{ template }} at 100,000 levels within one execution, but each
// executeTemplate starts an execution of its own, with its own count, and
// costs several kilobytes of goroutine stack: 1,000 levels fail with an
// error long before the stack's 1 GB limit would kill the process.
const MaxExecuteDepth = 1000

// ErrLimit is wrapped by the error of an execution abandoned because it
// passed one of its limits: [Options.MaxOutput], [Options.MaxRenderTime],
// [MaxExecuteDepth], or the end of the context given to
// [Template.ExecuteContext].
var ErrLimit = errors.New("render abandoned")

// guard stops an execution that passed a limit. text/template cannot be
// cancelled from outside, so the execution is failed from within: every
// write to its output checks the guard (an atomic load), as do
// executeTemplate and the feeder of a long loop. A timer and the context's
// end stop it from other goroutines.
type guard struct {
	maxOutput int
	stopped   atomic.Bool
	mu        sync.Mutex
	err       error          // why it stopped; set once, before stopped
	done      chan struct{}  // closed when the execution ends
	feeders   sync.WaitGroup // the goroutines feeding long loops
}

// newGuard returns the guard of one execution with the limits of opts. Its
// release must be called when the execution ends.
func newGuard(ctx context.Context, name string, opts Options) (*guard, func()) {
	g := &guard{maxOutput: opts.MaxOutput, done: make(chan struct{})}
	if g.maxOutput <= 0 {
		g.maxOutput = DefaultMaxOutput
	}
	d := cmp.Or(max(opts.MaxRenderTime, 0), DefaultMaxRenderTime)
	timer := time.AfterFunc(d, func() {
		g.stop(fmt.Errorf("%s: %w: still running after max_render_time (%s)", name, ErrLimit, d))
	})
	stopCtx := context.AfterFunc(ctx, func() {
		g.stop(fmt.Errorf("%s: %w: %w", name, ErrLimit, context.Cause(ctx)))
	})
	return g, func() {
		timer.Stop()
		stopCtx()
		close(g.done)
		g.feeders.Wait()
	}
}

// MaxRenderTime returns how long an execution may run: Options.MaxRenderTime
// or its default.
func (t *Template) MaxRenderTime() time.Duration {
	if t.opts.MaxRenderTime > 0 {
		return t.opts.MaxRenderTime
	}
	return DefaultMaxRenderTime
}

// stop fails the execution with err, unless it already failed.
func (g *guard) stop(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err == nil {
		g.err = err
		g.stopped.Store(true)
	}
}

// check returns why the execution stopped, or nil while it may go on.
func (g *guard) check() error {
	if !g.stopped.Load() {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.err
}

// overSize stops the execution when n bytes pass its output limit.
func (g *guard) overSize(name string, n int) error {
	if n <= g.maxOutput {
		return nil
	}
	g.stop(fmt.Errorf("%s: %w: output passed max_output_bytes (%d bytes)", name, ErrLimit, g.maxOutput))
	return g.check()
}

// guardedWriter is where an execution writes: a buffer that refuses writes
// once the guard stopped or the buffer would pass the output limit, which
// fails the execution at its next write.
type guardedWriter struct {
	buf  *bytes.Buffer
	g    *guard
	name string
}

func (w guardedWriter) Write(p []byte) (int, error) {
	if err := w.g.check(); err != nil {
		return 0, err
	}
	if err := w.g.overSize(w.name, w.buf.Len()+len(p)); err != nil {
		return 0, err
	}
	return w.buf.Write(p)
}

// writer returns the guarded writer of buf for the execution in progress.
func (t *Template) writer(buf *bytes.Buffer) guardedWriter {
	return guardedWriter{buf: buf, g: t.run.guard, name: t.name}
}
