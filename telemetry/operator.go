package telemetry

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ctpl/ctpl/renderer"
)

// ProgressReport is start-up progress in a Report: the watched queries and
// those still without data.
type ProgressReport struct {
	Queries int `json:"queries"`
	Waiting int `json:"waiting"`
}

// ChangeReport counts the instance changes of every write so far.
type ChangeReport struct {
	Added    uint64 `json:"added"`
	Removed  uint64 `json:"removed"`
	Modified uint64 `json:"modified"`
}

// unrenderedReason says why an agent whose templates have not all rendered
// is not ready: the queries it still waits for, when it waits for any.
func unrenderedReason(st renderer.Status) string {
	pending := 0
	for _, t := range st.Templates {
		if t.State == renderer.StatePending {
			pending++
		}
	}
	if st.Waiting > 0 {
		return fmt.Sprintf("waiting for %d of %d queries (%d of %d templates not rendered yet)",
			st.Waiting, st.Queries, pending, len(st.Templates))
	}
	return fmt.Sprintf("%d of %d templates not rendered yet", pending, len(st.Templates))
}

// addOperator adds to r what the operator reads besides states: progress,
// instance counts per query, the last change of each template and the
// change counts.
func addOperator(r *Report, st renderer.Status) {
	r.Progress = &ProgressReport{Queries: st.Queries, Waiting: st.Waiting}
	r.Changes = ChangeReport{Added: st.Changes.Added, Removed: st.Changes.Removed, Modified: st.Changes.Modified}
	for i := range r.Queries {
		if c, ok := st.Instances[r.Queries[i].Query]; ok {
			r.Queries[i].Instances = &c
		}
	}
	for i, t := range st.Templates {
		if i < len(r.Templates) {
			r.Templates[i].LastChange = t.LastChange
		}
	}
}

var (
	descInstances = prometheus.NewDesc("ctpl_query_instances",
		"Instances a health service query returns: status=\"passing\" of them passing, status=\"total\" all "+
			"(only for a query returning other statuses too, such as service \"web|any\": Consul returns "+
			"passing instances alone to a plain service query).",
		[]string{"query", "status"}, nil)
	descChanges = prometheus.NewDesc("ctpl_instance_changes_total",
		"Instances added, removed or modified (status or address) by the writes of every template, the causes of the reloads.",
		[]string{"change"}, nil)
	descWaiting = prometheus.NewDesc("ctpl_queries_waiting",
		"Watched queries without data yet (start-up progress; 0 once every template has rendered).", nil, nil)
)

// collectOperator emits the instance counts, change counters and progress.
func collectOperator(ch chan<- prometheus.Metric, st renderer.Status) {
	for key, c := range st.Instances {
		ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(c.Passing), key, "passing")
		if !c.PassingOnly {
			ch <- prometheus.MustNewConstMetric(descInstances, prometheus.GaugeValue, float64(c.Total), key, "total")
		}
	}
	for change, n := range map[string]uint64{"added": st.Changes.Added, "removed": st.Changes.Removed, "modified": st.Changes.Modified} {
		ch <- prometheus.MustNewConstMetric(descChanges, prometheus.CounterValue, float64(n), change)
	}
	ch <- prometheus.MustNewConstMetric(descWaiting, prometheus.GaugeValue, float64(st.Waiting))
}
