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
// waits for, and their keys for Status.
func (j *job) await(missing []watch.Spec) {
	j.missing = missing
	if len(missing) == 0 {
		j.waiting, j.missingKeys = nil, nil
		return
	}
	j.waiting = make(map[string]struct{}, len(missing))
	j.missingKeys = make([]string, len(missing)) // read-only once published
	for i, s := range missing {
		key := s.String()
		j.waiting[key], j.missingKeys[i] = struct{}{}, key
	}
}

// latest returns the later of a and b.
func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
