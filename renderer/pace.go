package renderer

import (
	"time"

	"github.com/ctpl/ctpl/watch"
)

// incompleteInterval spaces the executions of a template that used queries
// without data while some of those have still not arrived. At a cold start
// the answers of a template's queries (a thousand `service` calls in a
// `range services`) arrive over a second or more: executing it for every
// batch would cost as many full passes over the template, when its output
// cannot be used before the last one. Once every missing query has arrived
// the template executes at once; the interval only bounds how long a query
// that may never arrive (a `key` of an absent key) delays the discovery of
// the queries that data which did arrive leads to. A complete template is
// never delayed by it.
const incompleteInterval = 50 * time.Millisecond

// await records the queries the job's last execution missed as the ones it
// waits for.
func (j *job) await(missing []watch.Spec) {
	if len(missing) == 0 {
		j.waiting = nil
		return
	}
	j.waiting = make(map[string]struct{}, len(missing))
	for _, s := range missing {
		j.waiting[s.String()] = struct{}{}
	}
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
