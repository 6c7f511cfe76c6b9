package renderer

import (
	"fmt"
	"slices"

	"github.com/ctpl/ctpl/watch"
)

// instances tracks, for one job, the number of instances each health
// service query it uses returns, so that a render costs work in proportion
// to the queries that changed, not to all it uses. Only the agent loop
// touches it.
type instances struct {
	// cur holds the instances of each used health service query that has
	// data, as of the job's last complete execution.
	cur map[string]int
	// diff holds the keys where cur and the job's accepted counts differ
	// (a different number, or present in only one).
	diff map[string]struct{}
	// valid is false when cur must be taken again from every used query:
	// the used set or the accepted counts changed wholesale.
	valid bool
	// pending are the health service queries whose value changed since cur
	// was taken; duplicates allowed.
	pending []string
}

// invalidate makes the next update take every query again.
func (c *instances) invalidate() { c.valid, c.pending = false, nil }

// changed notes that the value of key, a health service query the job
// uses, changed.
func (c *instances) changed(key string, used int) {
	if !c.valid {
		return
	}
	if len(c.pending) >= used { // more than a full pass would cost
		c.invalidate()
		return
	}
	c.pending = append(c.pending, key)
}

// update brings cur and diff up to date with store, given the queries used
// and the counts at the last accepted render.
func (c *instances) update(store *watch.Store, used map[string]watch.Spec, accepted map[string]int) {
	if !c.valid {
		c.cur, c.diff = map[string]int{}, map[string]struct{}{}
		for key, s := range used {
			if s.Kind != watch.KindHealthService {
				continue
			}
			if v, ok := store.Get(key); ok {
				c.cur[key] = countOf(v)
			}
		}
		for key := range c.cur {
			c.compare(key, accepted)
		}
		for key := range accepted {
			c.compare(key, accepted)
		}
		c.valid, c.pending = true, c.pending[:0]
		return
	}
	for _, key := range c.pending {
		if v, ok := store.Get(key); ok {
			c.cur[key] = countOf(v)
		} else {
			delete(c.cur, key)
		}
		c.compare(key, accepted)
	}
	c.pending = c.pending[:0]
}

// compare records in diff whether cur and accepted differ at key.
func (c *instances) compare(key string, accepted map[string]int) {
	n, ok := c.cur[key]
	had, hok := accepted[key]
	if ok != hok || n != had {
		c.diff[key] = struct{}{}
	} else {
		delete(c.diff, key)
	}
}

// accept applies cur to accepted (allocated when nil) and reports whether
// accepted changed.
func (c *instances) accept(accepted *map[string]int) bool {
	if len(c.diff) == 0 {
		return false
	}
	if *accepted == nil {
		*accepted = make(map[string]int, len(c.cur))
	}
	for key := range c.diff {
		if n, ok := c.cur[key]; ok {
			(*accepted)[key] = n
		} else {
			delete(*accepted, key)
		}
	}
	clear(c.diff)
	return true
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

// holdReason says why a render must be held, given the counts at the last
// accepted render, or returns "". Only the queries whose count differs from
// then can hold a render, so only those are looked at, in key order.
func holdReason(t Template, accepted map[string]int, c *instances) string {
	var keys []string
	for key := range c.diff {
		if n, ok := c.cur[key]; ok && n < accepted[key] {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		had, n := accepted[key], c.cur[key]
		if n == 0 && t.OnEmpty != OnEmptyAllow {
			return fmt.Sprintf("query %s returned no instances (it had %d); set on_empty: allow to render anyway", key, had)
		}
		if t.MaxShrink > 0 && float64(had-n) > t.MaxShrink*float64(had) {
			return fmt.Sprintf("query %s dropped from %d to %d instances, more than max_shrink %g%%", key, had, n, t.MaxShrink*100)
		}
	}
	return ""
}
