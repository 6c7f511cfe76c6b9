package renderer

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// DefaultStaleAfter is Options.StaleAfter when it is not set: the default
// of ready_max_data_age.
const DefaultStaleAfter = 2 * time.Minute

// outages tracks, per datacenter, the queries failing now, so that the log
// says once when a datacenter's data starts to age and once, with how long
// it lasted, when it is fresh again. Only the agent loop touches it.
type outages struct {
	byDC map[string]*outage   // by Spec.DC; "" is the agent's own
	dcOf map[string]string    // the datacenter of every failing query
	back map[string]*comeback // the datacenters coming back, by name
}

// comeback is a datacenter coming back: since its first answer read afresh
// (watch.Update.Reread), the watched queries of it that have not answered
// since.
type comeback struct {
	since   time.Time
	pending map[string]struct{}
}

// outage is one datacenter's failing queries and since when the first of
// them fails.
type outage struct {
	since time.Time
	keys  map[string]struct{}
}

// recoveryWait bounds how long a template waits, once a datacenter starts
// answering again, for the rest of its queries to answer afresh, so that
// the fresh answers of a datacenter restarted (perhaps empty) are not
// rendered with its old data. A query that has not answered by then is
// rendered with its last data.
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

// queryFailed records a failed query. One that Consul refused (a filter
// expression it cannot use, a prepared query it does not know: the
// template is wrong, not the datacenter) is logged with the templates that
// use it and is no datacenter outage.
func (a *Agent) queryFailed(u watch.Update) {
	if !errors.Is(u.Err, watch.ErrRefused) {
		a.out.failed(a.log, u.Key, a.watched[u.Key].DC, u.At, u.Err)
		return
	}
	var templates []string
	for _, j := range a.jobs {
		if _, ok := j.used[u.Key]; ok {
			templates = append(templates, j.t.Source)
		}
	}
	a.log.Warn("Consul refused a query; templates using it keep their last output until it is fixed",
		"query", u.Key, "templates", templates, "error", u.Err)
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

// reread notes an answer of key, of datacenter dc: the first one read
// afresh because dc came back starts waiting for the rest of dc's watched
// queries; any answer of a query waited for ends its wait.
func (o *outages) reread(key, dc string, u watch.Update, watched map[string]watch.Spec) {
	if r := o.back[dc]; r != nil && u.At.Sub(r.since) < recoveryWait {
		delete(r.pending, key)
		if len(r.pending) == 0 {
			delete(o.back, dc)
		}
		return
	}
	delete(o.back, dc)
	if !u.Reread || dc == "" {
		return
	}
	r := &comeback{since: u.At, pending: map[string]struct{}{}}
	for k, s := range watched {
		if s.DC == dc && k != key {
			r.pending[k] = struct{}{}
		}
	}
	if len(r.pending) > 0 {
		if o.back == nil {
			o.back = map[string]*comeback{}
		}
		o.back[dc] = r
	}
}

// forgetReread stops waiting for key, no longer watched.
func (o *outages) forgetReread(key string) {
	for dc, r := range o.back {
		delete(r.pending, key)
		if len(r.pending) == 0 {
			delete(o.back, dc)
		}
	}
}

// comingBack says why j must wait for a datacenter coming back, and until
// when: the datacenter's first answer read afresh came less than
// recoveryWait ago, and queries of it that j uses have not answered since.
// "" when it need not wait; never with on_empty: allow.
func (a *Agent) comingBack(j *job, now time.Time) (string, time.Time) {
	if j.t.OnEmpty == OnEmptyAllow {
		return "", time.Time{}
	}
	for _, dc := range slices.Sorted(maps.Keys(a.out.back)) {
		r := a.out.back[dc]
		until := r.since.Add(recoveryWait)
		if !now.Before(until) {
			continue
		}
		var waiting []string
		for key := range r.pending {
			if _, ok := j.used[key]; ok {
				waiting = append(waiting, key)
			}
		}
		if len(waiting) == 0 {
			continue
		}
		slices.Sort(waiting)
		return fmt.Sprintf("datacenter %s is coming back: waiting up to %s for %d of its queries to answer afresh (%s) "+
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
