package watch

import (
	"context"
	"time"
)

// Query fetches the data a [Spec] names. Fetch blocks, like a Consul
// blocking query, until the data's index exceeds opts.Index or opts.Wait
// passes; with index 0 it reads at once. It must return promptly when ctx is
// cancelled. A Query that also has a Close() method is closed by the
// Watcher once it stops watching it (Forget, Sync or Close), after its last
// Fetch has returned.
type Query interface {
	Fetch(ctx context.Context, opts FetchOptions) (Result, error)
}

// FetchOptions are the per-request inputs of a [Query].
type FetchOptions struct {
	// Index is the index of the last result; 0 asks for a plain read.
	Index uint64
	// Wait is how long the server may hold the request.
	Wait time.Duration
	// Timeout bounds the request once it is sent (0: no bound); the Watcher
	// sets it to Wait + Wait/16 + Options.Grace, so a stalled or black-holed
	// connection is cut off. A source must apply it; a source that queues
	// requests before sending them (to keep within a connection budget)
	// applies it to the sending alone, so a long queue is not mistaken for a
	// stalled connection.
	Timeout time.Duration
}

// Result is one answer of a [Query].
type Result struct {
	// Value is the decoded data, one of the record types of this package.
	Value any
	// Index is the data's index; it must be above 0.
	Index uint64
	// Warning, when set, says something the operator should know about an
	// answer that is not an error: Consul left out everything the token may
	// not read, and nothing was left. The watcher logs it once and shows it
	// in the query's state while it lasts.
	Warning string
	// Filtered says the source left out records the token may not read
	// (Consul's X-Consul-Results-Filtered-By-ACLs): Value is the token's
	// view, not the whole registry.
	Filtered bool
}

// Source turns specs into queries: the adapter to one data source.
type Source interface {
	Query(Spec) (Query, error)
}

// QueryFunc adapts a function to [Query].
type QueryFunc func(ctx context.Context, opts FetchOptions) (Result, error)

// Fetch calls f.
func (f QueryFunc) Fetch(ctx context.Context, opts FetchOptions) (Result, error) { return f(ctx, opts) }
