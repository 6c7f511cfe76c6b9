package telemetry

import (
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/ctpl/ctpl/renderer"
)

// Readiness says which data /readyz weighs.
type Readiness struct {
	// MaxDataAge is the data age beyond which a query makes the agent
	// unready (0: DefaultReadyMaxDataAge).
	MaxDataAge time.Duration
	// Ignore lists datacenters ("@dc2": every query naming dc2; "@*": every
	// query naming a datacenter) and queries (their canonical string) whose
	// age never makes the agent unready.
	// A template's own ReadyIgnore ([renderer.TemplateStatus]) ignores a
	// datacenter when every template reading it ignores it.
	Ignore []string
}

// LocalDatacenter names, in reports and metrics, the datacenter of the
// queries that name none: the agent's own.
const LocalDatacenter = "local"

// DatacenterReport is the freshness of one datacenter's queries in a
// Report.
type DatacenterReport struct {
	Name    string `json:"name"`    // LocalDatacenter for the agent's own
	Queries int    `json:"queries"` // watched queries naming it
	Failing int    `json:"failing"` // of those, failing now
	// AgeSeconds is the age of its oldest data: the time since its first
	// failing query began to fail; 0 while none fails.
	AgeSeconds float64 `json:"age_seconds"`
	// Stale says it in words while a query fails: "dc2 data 12m0s old".
	Stale string `json:"stale,omitempty"`
	// ReadyIgnored is true when its age does not count for /readyz.
	ReadyIgnored bool `json:"ready_ignored,omitempty"`
}

// dcOf names the datacenter of a query.
func dcOf(q Query) string {
	if q.DC == "" {
		return LocalDatacenter
	}
	return q.DC
}

// datacenters groups the queries by datacenter.
func datacenters(qs map[string]Query, ignored func(key, dc string) bool, now time.Time) []DatacenterReport {
	by := map[string]*DatacenterReport{}
	for _, q := range qs {
		name := dcOf(q)
		d := by[name]
		if d == nil {
			d = &DatacenterReport{Name: name, ReadyIgnored: q.DC != "" && ignored("", q.DC)}
			by[name] = d
		}
		d.Queries++
		if q.Err == "" {
			continue
		}
		d.Failing++
		if age := q.Age(now); age.Seconds() > d.AgeSeconds {
			d.AgeSeconds = age.Seconds()
		}
	}
	out := make([]DatacenterReport, 0, len(by))
	for _, d := range by {
		if d.Failing > 0 {
			age := time.Duration(d.AgeSeconds * float64(time.Second))
			d.Stale = fmt.Sprintf("%s data %s old", d.Name, age.Round(time.Second))
		}
		out = append(out, *d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ignoreRule decides whether a query's age is ignored for readiness.
func ignoreRule(r Readiness, st renderer.Status) func(key, dc string) bool {
	return func(key, dc string) bool {
		if key != "" && slices.Contains(r.Ignore, key) {
			return true
		}
		if dc == "" {
			return false
		}
		if ignoresDC(r.Ignore, dc) {
			return true
		}
		readers := 0
		for _, t := range st.Templates {
			if !slices.Contains(t.Datacenters, dc) {
				continue
			}
			if !ignoresDC(t.ReadyIgnore, dc) {
				return false
			}
			readers++
		}
		return readers > 0
	}
}

// ignoresDC reports whether list ignores datacenter dc: "@dc", or "@*"
// for every datacenter a query names.
func ignoresDC(list []string, dc string) bool {
	return slices.Contains(list, "@"+dc) || slices.Contains(list, AnyDatacenter)
}

// AnyDatacenter in a ready_ignore list ignores every datacenter a query
// names (`@dc`), never the queries that name none.
const AnyDatacenter = "@*"

// staleReasons says, per datacenter, which queries are older than maxAge
// and not ignored: one line naming the query when only one is, else one
// line for the datacenter naming its oldest.
func staleReasons(qs map[string]Query, ignored func(key, dc string) bool, maxAge time.Duration, now time.Time) []string {
	type stale struct {
		n        int
		key, err string // the oldest query and its error
		age      time.Duration
	}
	by := map[string]*stale{}
	for key, q := range qs {
		age := q.Age(now)
		if age <= maxAge || ignored(key, q.DC) {
			continue
		}
		s := by[dcOf(q)]
		if s == nil {
			s = &stale{}
			by[dcOf(q)] = s
		}
		s.n++
		if age > s.age || (age == s.age && key < s.key) {
			s.key, s.age, s.err = key, age, q.Err
		}
	}
	var out []string
	for dc, s := range by {
		if s.n == 1 {
			out = append(out, fmt.Sprintf("%s: data %s old (max %s): %s", s.key, s.age.Round(time.Second), maxAge, s.err))
			continue
		}
		out = append(out, fmt.Sprintf("datacenter %s: %d queries' data up to %s old (max %s), e.g. %s: %s",
			dc, s.n, s.age.Round(time.Second), maxAge, s.key, s.err))
	}
	return out
}
