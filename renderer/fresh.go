package renderer

import (
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultStaleAfter is Options.StaleAfter when it is not set: the default
// of ready_max_data_age.
const DefaultStaleAfter = 2 * time.Minute

// outages tracks, per datacenter, the queries failing now, so that the log
// says once when a datacenter's data starts to age and once, with how long
// it lasted, when it is fresh again. Only the agent loop touches it.
type outages struct {
	byDC map[string]*outage // by Spec.DC; "" is the agent's own
	dcOf map[string]string  // the datacenter of every failing query
}

// outage is one datacenter's failing queries and since when the first of
// them fails.
type outage struct {
	since time.Time
	keys  map[string]struct{}
	// back is when the first of its queries answered again while others
	// still fail: the datacenter is coming back, and its answers arrive
	// one by one (zero while none has).
	back time.Time
}

// recoveryWait bounds how long a template waits, once a datacenter starts
// answering again, for the rest of its failing queries, so that the fresh
// answers of a datacenter restarted (perhaps empty) are not rendered with
// its old data. A query still failing after it is rendered with its last
// data.
const recoveryWait = 10 * time.Second

// dcName names a datacenter in logs: "" is the agent's own.
func dcName(dc string) string {
	if dc == "" {
		return "local"
	}
	return dc
}

// failed records that the query key of datacenter dc fails since at, and
// logs the start of the datacenter's outage.
func (o *outages) failed(log *slog.Logger, key, dc string, at time.Time, err error) {
	if _, ok := o.dcOf[key]; ok {
		return
	}
	if o.byDC == nil {
		o.byDC, o.dcOf = map[string]*outage{}, map[string]string{}
	}
	out := o.byDC[dc]
	if out == nil {
		out = &outage{since: at, keys: map[string]struct{}{}}
		o.byDC[dc] = out
		log.Warn("datacenter's data is aging: its queries fail; renders keep its last data",
			"datacenter", dcName(dc), "query", key, "error", err)
	}
	out.keys[key] = struct{}{}
	o.dcOf[key] = dc
}

// answered records that key answered at: when it was its datacenter's last
// failing query, the outage ends and its length is logged. forgotten says
// the query is no longer watched rather than answering.
func (o *outages) answered(log *slog.Logger, key string, at time.Time, forgotten bool) {
	dc, ok := o.dcOf[key]
	if !ok {
		return
	}
	delete(o.dcOf, key)
	out := o.byDC[dc]
	delete(out.keys, key)
	if len(out.keys) > 0 {
		if out.back.IsZero() && !forgotten {
			out.back = at
		}
		return
	}
	delete(o.byDC, dc)
	if forgotten {
		log.Info("datacenter's failing queries are no longer used", "datacenter", dcName(dc))
		return
	}
	log.Info("datacenter's data is fresh again", "datacenter", dcName(dc),
		"down_for", at.Sub(out.since).Round(time.Second).String())
}

// noteStale logs, once per outage, that j rendered with data of a
// datacenter whose queries have failed longer than staleAfter: "dc2 data
// 12m0s old". It is called with complete output, before any hold.
func (a *Agent) noteStale(j *job, now time.Time) {
	if len(a.out.byDC) == 0 {
		j.staleLogged = nil
		return
	}
	staleAfter := a.opts.StaleAfter
	if staleAfter <= 0 {
		staleAfter = DefaultStaleAfter
	}
	for dc, out := range a.out.byDC {
		age := now.Sub(out.since)
		if age <= staleAfter || slices.Contains(j.staleLogged, dc) || !j.usesAny(out.keys) {
			continue
		}
		j.staleLogged = append(j.staleLogged, dc)
		a.log.Warn("rendering with data older than ready_max_data_age", "template", j.t.Source,
			"stale", dcName(dc)+" data "+age.Round(time.Second).String()+" old", "max", staleAfter.String())
	}
	j.staleLogged = slices.DeleteFunc(j.staleLogged, func(dc string) bool { return a.out.byDC[dc] == nil })
}

// comingBack says why j must wait for a datacenter coming back, and until
// when: one of the datacenter's queries answered again less than
// recoveryWait ago while others that j uses still fail. "" when it need not
// wait; never with on_empty: allow.
func (a *Agent) comingBack(j *job, now time.Time) (string, time.Time) {
	if j.t.OnEmpty == OnEmptyAllow {
		return "", time.Time{}
	}
	for _, dc := range slices.Sorted(maps.Keys(a.out.byDC)) {
		out := a.out.byDC[dc]
		until := out.back.Add(recoveryWait)
		if out.back.IsZero() || !now.Before(until) {
			continue
		}
		var waiting []string
		for key := range out.keys {
			if _, ok := j.used[key]; ok {
				waiting = append(waiting, key)
			}
		}
		if len(waiting) == 0 {
			continue
		}
		slices.Sort(waiting)
		return fmt.Sprintf("datacenter %s is coming back: waiting up to %s for %d of its queries still failing (%s) "+
			"before its fresh answers are rendered", dcName(dc), recoveryWait, len(waiting), strings.Join(waiting, ", ")), until
	}
	return "", time.Time{}
}

// usesAny reports whether j used one of keys.
func (j *job) usesAny(keys map[string]struct{}) bool {
	for key := range keys {
		if _, ok := j.used[key]; ok {
			return true
		}
	}
	return false
}

// datacentersOf returns the datacenters other than the agent's own whose
// data j reads, sorted.
func (j *job) datacentersOf() []string {
	var dcs []string
	for _, s := range j.usedList {
		if s.DC != "" && !slices.Contains(dcs, s.DC) {
			dcs = append(dcs, s.DC)
		}
	}
	slices.Sort(dcs)
	return dcs
}
