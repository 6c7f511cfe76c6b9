package watch

import (
	"context"
	"time"
)

type requestKey struct{}

type requestInfo struct {
	query   context.Context
	timeout time.Duration
}

// RequestContext returns, for the context a [Watcher] passes to
// [Query.Fetch], the query's own context (without the request's deadline)
// and the length of that deadline. An adapter that queues requests before
// sending them (to keep within a connection budget) waits on the query's
// context and applies the deadline to the sending alone, so a long queue is
// not mistaken for a stalled connection. ok is false for any other context.
func RequestContext(ctx context.Context) (query context.Context, timeout time.Duration, ok bool) {
	ri, ok := ctx.Value(requestKey{}).(requestInfo)
	if !ok {
		return ctx, 0, false
	}
	return ri.query, ri.timeout, true
}

// withRequest returns the context of one request of a query: ctx with the
// request's deadline, remembering ctx and the deadline's length.
func withRequest(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithValue(ctx, requestKey{}, requestInfo{query: ctx, timeout: timeout}), timeout)
}
