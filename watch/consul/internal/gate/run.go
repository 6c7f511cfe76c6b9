package gate

import "context"

// Run runs fn on a slot of g, again when the slot is preempted.
func Run[T any](ctx context.Context, g *Gate, fn func(context.Context) (T, error)) (T, error) {
	return RunAs(ctx, g, false, nil, fn)
}

// RunAs is Run for an urgent caller or not, whose wait for a slot ends
// with ErrAborted when abort closes.
func RunAs[T any](ctx context.Context, g *Gate, urgent bool, abort <-chan struct{}, fn func(context.Context) (T, error)) (T, error) {
	for {
		sctx, h, err := g.AcquireAs(ctx, urgent, abort)
		if err != nil {
			var zero T
			return zero, err
		}
		v, err := fn(sctx)
		if g.Release(h) && ctx.Err() == nil {
			continue
		}
		return v, err
	}
}
