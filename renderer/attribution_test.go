package renderer

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// passingOf returns n passing instances of svc.
func passingOf(svc string, n int) []*watch.HealthService {
	out := make([]*watch.HealthService, n)
	for i := range out {
		out[i] = &watch.HealthService{Name: svc, ID: fmt.Sprintf("%s-%d", svc, i), Node: "n", Address: "10.0.0.1",
			Port: 8000 + i, Status: watch.StatusPassing}
	}
	return out
}

// TestAttributionCountsEveryChangedQuery: a change of more queries than a
// log line names (a start-up at 2,000 services, a mass deregistration) is
// counted in full, and the queries named are the first in order.
func TestAttributionCountsEveryChangedQuery(t *testing.T) {
	const queries = 600
	tests := []struct {
		name           string
		before, after  int // instances per query; before -1: the query had no value
		added, removed int
	}{
		{name: "every query appears", before: -1, after: 3, added: 3 * queries},
		{name: "every query loses two of three", before: 3, after: 1, removed: 2 * queries},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			store := watch.NewStore()
			var log changeLog
			for i := range queries {
				key := fmt.Sprintf("health.service(svc%04d)", i)
				svc := fmt.Sprintf("svc%04d", i)
				var old any = absent{}
				if tc.before >= 0 {
					old = passingOf(svc, tc.before)
				}
				store.Apply(watch.Update{Key: key, Value: passingOf(svc, tc.after), Index: 2, At: time.Now()})
				log.note(key, old)
			}
			a := log.attribution(store)
			if a.NAdded != tc.added || a.NRemoved != tc.removed || a.NModified != 0 {
				t.Errorf("added %d, removed %d, modified %d; want %d, %d, 0", a.NAdded, a.NRemoved, a.NModified, tc.added, tc.removed)
			}
			if len(a.Changed) != maxChangedKeys || a.Changed[0] != "health.service(svc0000)" || a.MoreChanged != queries-maxChangedKeys {
				t.Errorf("changed %v +%d, want the first %d of %d in order", a.Changed, a.MoreChanged, maxChangedKeys, queries)
			}
			if got := len(a.Added) + a.MoreAdded + len(a.Removed) + a.MoreRemoved; got != tc.added+tc.removed {
				t.Errorf("listed and more: %d instances, want %d", got, tc.added+tc.removed)
			}
		})
	}
}
