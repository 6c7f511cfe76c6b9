package watch

import "github.com/ctpl/ctpl/watch/dependency"

// PreparedQuery is one execution of a prepared query, what `query`
// returns.
type PreparedQuery = dependency.PreparedQuery
