package renderer

import (
	"fmt"
	"slices"

	"github.com/ctpl/ctpl/watch"
)

// instances tracks, for one job, the size of what each counted query it uses
// returns (instances of a health query, entries of a catalog listing, keys of
// a KV list where the template counts them: [Template.counted]), so that a
// render costs work in proportion to the queries that changed, not to all it
// uses. Only the agent loop touches it.
type instances struct {
	// cur holds the size of each used counted query that has data, as of
	// the job's last complete execution.
	cur map[string]int
	// diff holds the keys where cur and the job's accepted counts differ
	// (a different number, or present in only one).
	diff map[string]struct{}
	// valid is false when cur must be taken again from every used query:
	// the used set or the accepted counts changed wholesale.
	valid bool
	// pending are the counted queries whose value changed since cur was
	// taken; duplicates allowed.
	pending []string
}

// invalidate makes the next update take every query again.
func (c *instances) invalidate() { c.valid, c.pending = false, nil }

// changed notes that the value of key, a counted query the job uses,
// changed.
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

// update brings cur and diff up to date with store, given the job's
// template, the queries used and the counts at the last accepted render.
func (c *instances) update(t *Template, store *watch.Store, used map[string]watch.Spec, accepted map[string]int) {
	if !c.valid {
		c.cur, c.diff = map[string]int{}, map[string]struct{}{}
		for key, s := range used {
			if !t.counted(s) {
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

// counted reports whether the hold rules (OnEmpty, MaxShrink) count what s
// returns: health and Connect instances, a prepared query's instances, the
// service names and nodes of a catalog listing, and, with HoldKVLists, the keys of a KV list. A KV list
// is not counted by default: an empty prefix is an ordinary state, and
// safeLs/safeTree already wait for a non-empty one.
func (t *Template) counted(s watch.Spec) bool {
	switch s.Kind {
	case watch.KindHealthService, watch.KindHealthConnect, watch.KindCatalogServices, watch.KindCatalogNodes,
		watch.KindPreparedQuery:
		return true
	case watch.KindKVList:
		return t.HoldKVLists
	}
	return false
}

// consulService is the service every Consul server registers: a catalog
// listing that holds only it is an empty catalog (a datacenter restarted
// from nothing, or a token that lost its service read rules).
const consulService = "consul"

// countOf returns the size of a counted query's value. A catalog service
// listing does not count Consul's own service, so that an empty catalog
// counts as empty.
func countOf(v any) int {
	switch v := v.(type) {
	case []*watch.HealthService:
		return len(v)
	case []watch.HealthService:
		return len(v)
	case []*watch.CatalogService:
		n := len(v)
		for _, s := range v {
			if s.Name == consulService {
				n--
			}
		}
		return n
	case []*watch.Node:
		return len(v)
	case []*watch.KeyPair:
		return len(v)
	case *watch.PreparedQuery:
		if v == nil {
			return 0
		}
		return len(v.Nodes)
	}
	return 0
}

// hold is why a render must be held: the first reason in key order and
// every held query.
type hold struct {
	reason string
	keys   []string // the held queries, sorted
}

// holdReason says why a render must be held, given the counts at the last
// accepted render and the specs of the used queries; the zero hold when it
// need not be. Only the queries whose count differs from then can hold a
// render, so only those are looked at, in key order. With vanish, a query
// the last accepted render counted and the execution no longer used counts
// as empty: its entry left a listing (`range services` → `service .Name`),
// so what it gave vanished from the output as surely as if it had returned
// nothing.
func holdReason(t Template, accepted map[string]int, c *instances, used map[string]watch.Spec, vanish bool) hold {
	var keys []string
	for key := range c.diff {
		n, ok := c.cur[key]
		if (ok && n < accepted[key]) || (!ok && vanish && accepted[key] > 0) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	var h hold
	for _, key := range keys {
		had, n := accepted[key], c.cur[key]
		why := ""
		switch {
		case n == 0 && t.OnEmpty != OnEmptyAllow:
			why = emptyReason(key, had, used)
		case t.MaxShrink > 0 && float64(had-n) > t.MaxShrink*float64(had):
			why = fmt.Sprintf("query %s dropped from %d to %d %s, more than max_shrink %g%%",
				key, had, n, noun(used[key].Kind), t.MaxShrink*100)
		}
		if why == "" {
			continue
		}
		if h.reason == "" {
			h.reason = why
		}
		h.keys = append(h.keys, key)
	}
	return h
}

// emptyReason says why a query that had entries and has none now holds a
// render.
func emptyReason(key string, had int, used map[string]watch.Spec) string {
	const allow = "; set on_empty: allow to render anyway"
	spec, ok := used[key]
	switch {
	case !ok:
		return fmt.Sprintf("query %s is no longer used by the template (it had %d): its entry left a listing%s", key, had, allow)
	case spec.Kind == watch.KindCatalogServices:
		where := "the catalog"
		if spec.DC != "" {
			where = "datacenter " + spec.DC + "'s catalog"
		}
		return fmt.Sprintf("%s came back empty: query %s lists no service but %s (it listed %d)%s",
			where, key, consulService, had, allow)
	}
	return fmt.Sprintf("query %s returned no %s (it had %d)%s", key, noun(spec.Kind), had, allow)
}

// noun names what a counted query of kind k counts.
func noun(k watch.Kind) string {
	switch k {
	case watch.KindCatalogServices:
		return "services"
	case watch.KindCatalogNodes:
		return "nodes"
	case watch.KindKVList:
		return "keys"
	}
	return "instances"
}
