package renderer

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"

	"github.com/ctpl/ctpl/watch"
)

// Bounds of an attribution: a render's log line names at most maxChangedKeys
// queries and maxDeltaItems instances per kind of change, then "+N more".
const (
	maxChangedKeys  = 8
	maxDeltaItems   = 10
	maxRenderListed = 16 // renders named by one reload line
)

// absent is the old value of a query that had no value before its change.
type absent struct{}

// changeLog is what changed for one job since its output was last accepted:
// per query key, the value it had then. Only the agent loop touches it.
//
// Every changed query is kept, so that the counts of a change as large as
// the registry (a start-up, a mass deregistration) are right. What that
// holds is bounded: one entry per query the template uses, each a reference
// to a value the store held (never a copy; absent for a query that had
// none), dropped when an output is accepted.
type changeLog struct {
	old map[string]any
}

// note records that key changed; old is its value before the change (absent
// when it had none). The first old value since the last accepted render is
// kept.
func (c *changeLog) note(key string, old any) {
	if _, ok := c.old[key]; ok {
		return
	}
	if c.old == nil {
		c.old = map[string]any{}
	}
	c.old[key] = old
}

func (c *changeLog) reset() { c.old = nil }

// Attribution says why a template's output changed: the queries whose data
// changed and, for health service queries, the instances added, removed or
// modified. Each list is bounded.
type Attribution struct {
	Changed  []string // query keys, sorted
	Added    []string // instances as address:port(id[, status])
	Removed  []string
	Modified []string // instances whose status changed: address:port(id, old→new)
	// More counts what the lists leave out, per list.
	MoreChanged, MoreAdded, MoreRemoved, MoreModified int
	// Counts of the instance changes, left out or not.
	NAdded, NRemoved, NModified int
}

// attribution computes j's attribution from its change log and the store.
func (c *changeLog) attribution(store *watch.Store) Attribution {
	var a Attribution
	keys := make([]string, 0, len(c.old))
	for k := range c.old {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	a.Changed, a.MoreChanged = bounded(keys, maxChangedKeys)
	for _, k := range keys {
		now, _ := store.Get(k)
		a.delta(c.old[k], now)
	}
	return a
}

// delta adds the instance differences between old and now, two values of a
// health service query (other values add nothing).
func (a *Attribution) delta(old, now any) {
	before, okOld := instancesOf(old)
	after, okNow := instancesOf(now)
	if !okOld && !okNow {
		return
	}
	if len(before) == 0 { // a query that appears: all added, no lookups
		for _, s := range after {
			a.added(s)
		}
		return
	}
	prev := make(map[instanceKey]*watch.HealthService, len(before))
	for _, s := range before {
		prev[keyOf(s)] = s
	}
	for _, s := range after {
		k := keyOf(s)
		p, ok := prev[k]
		delete(prev, k)
		switch {
		case !ok:
			a.added(s)
		case p == s: // the decoder keeps an unchanged record pointer-equal
		case p.Status != s.Status || p.Address != s.Address || p.Port != s.Port:
			a.NModified++
			a.Modified, a.MoreModified = appendBounded(a.Modified, a.MoreModified, s, p.Status)
		}
	}
	gone := make([]*watch.HealthService, 0, len(prev))
	for _, s := range before { // in the old order, not the map's
		if _, ok := prev[keyOf(s)]; ok {
			gone = append(gone, s)
		}
	}
	for _, s := range gone {
		a.NRemoved++
		a.Removed, a.MoreRemoved = appendBounded(a.Removed, a.MoreRemoved, s, "")
	}
}

func (a *Attribution) added(s *watch.HealthService) {
	a.NAdded++
	a.Added, a.MoreAdded = appendBounded(a.Added, a.MoreAdded, s, "")
}

func instancesOf(v any) ([]*watch.HealthService, bool) {
	switch v := v.(type) {
	case []*watch.HealthService:
		return v, true
	case []watch.HealthService:
		out := make([]*watch.HealthService, len(v))
		for i := range v {
			out[i] = &v[i]
		}
		return out, true
	}
	return nil, false
}

// instanceKey identifies an instance across answers: its node and ID.
type instanceKey struct{ node, id string }

func keyOf(s *watch.HealthService) instanceKey { return instanceKey{s.Node, s.ID} }

// describe names an instance: address:port(id), with its status when not
// passing, or old→new when was is the status it had.
func describe(s *watch.HealthService, was string) string {
	addr := s.Address
	if addr == "" {
		addr = s.NodeAddress
	}
	if strings.Contains(addr, ":") {
		addr = "[" + addr + "]"
	}
	id := s.ID
	if id == "" {
		id = s.Node
	}
	status := ""
	switch {
	case was != "" && was != s.Status:
		status = ", " + was + "→" + s.Status
	case s.Status != "" && s.Status != watch.StatusPassing:
		status = ", " + s.Status
	}
	return oneLine(addr + ":" + strconv.Itoa(s.Port) + "(" + id + status + ")")
}

// oneLine cuts s to 200 bytes and replaces control characters, so a value
// from the registry can neither break a log line nor make it long.
func oneLine(s string) string {
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func bounded(list []string, n int) ([]string, int) {
	if len(list) <= n {
		return list, 0
	}
	return list[:n], len(list) - n
}

// appendBounded appends s, described, to list, or counts it in more once
// list is full: only the instances named are described.
func appendBounded(list []string, more int, s *watch.HealthService, was string) ([]string, int) {
	if len(list) >= maxDeltaItems {
		return list, more + 1
	}
	return append(list, describe(s, was)), more
}

// Attrs returns a's log attributes: changed, and added, removed, modified
// when not empty.
func (a Attribution) Attrs() []any {
	attrs := []any{slog.String("changed", joinMore(a.Changed, a.MoreChanged))}
	for _, l := range []struct {
		name string
		list []string
		more int
	}{{"added", a.Added, a.MoreAdded}, {"removed", a.Removed, a.MoreRemoved}, {"modified", a.Modified, a.MoreModified}} {
		if len(l.list) > 0 {
			attrs = append(attrs, slog.String(l.name, joinMore(l.list, l.more)))
		}
	}
	return attrs
}

// String is a one-line summary: "health.service(web): +1 -2 ~0".
func (a Attribution) String() string {
	s := joinMore(a.Changed, a.MoreChanged)
	if a.NAdded+a.NRemoved+a.NModified > 0 {
		s += fmt.Sprintf(": %d added, %d removed, %d modified", a.NAdded, a.NRemoved, a.NModified)
	}
	return s
}

func joinMore(list []string, more int) string {
	s := strings.Join(list, " ")
	if more > 0 {
		s += fmt.Sprintf(" +%d more", more)
	}
	return strings.TrimSpace(s)
}

// renderList names the renders a reload covers: "3,4,5", bounded.
func renderList(ids []uint64) string {
	var b strings.Builder
	for i, id := range ids {
		if i == maxRenderListed {
			fmt.Fprintf(&b, " +%d more", len(ids)-i)
			break
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if id == 0 {
			b.WriteString("restore")
			continue
		}
		b.WriteString(strconv.FormatUint(id, 10))
	}
	return b.String()
}
