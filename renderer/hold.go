package renderer

import (
	"fmt"
	"slices"

	"github.com/ctpl/ctpl/watch"
)

// instanceCounts returns the number of instances each health service query
// j used returned.
func (a *Agent) instanceCounts(j *job) map[string]int {
	var counts map[string]int
	for key, s := range j.used {
		if s.Kind != watch.KindHealthService {
			continue
		}
		v, ok := a.store.Get(key)
		if !ok {
			continue
		}
		if counts == nil {
			counts = map[string]int{}
		}
		counts[key] = countOf(v)
	}
	return counts
}

// countOf returns the number of instances in a health service value.
func countOf(v any) int {
	switch v := v.(type) {
	case []*watch.HealthService:
		return len(v)
	case []watch.HealthService:
		return len(v)
	}
	return 0
}

// holdReason says why a render with instance counts now must be held, given
// the counts at the last accepted render, or returns "".
func holdReason(t Template, before, now map[string]int) string {
	keys := make([]string, 0, len(now))
	for k := range now {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		had, n := before[key], now[key]
		if had == 0 || n >= had {
			continue
		}
		if n == 0 && t.OnEmpty != OnEmptyAllow {
			return fmt.Sprintf("query %s returned no instances (it had %d); set on_empty: allow to render anyway", key, had)
		}
		if t.MaxShrink > 0 && float64(had-n) > t.MaxShrink*float64(had) {
			return fmt.Sprintf("query %s dropped from %d to %d instances, more than max_shrink %g%%", key, had, n, t.MaxShrink*100)
		}
	}
	return ""
}
