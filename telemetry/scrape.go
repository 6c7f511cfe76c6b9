package telemetry

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ctpl/ctpl/renderer"
)

var (
	descReady = prometheus.NewDesc("ctpl_ready",
		"1 when every template has rendered once or holds good content.", nil, nil)
	descTemplateState = prometheus.NewDesc("ctpl_template_state",
		"1 for the template's current state (pending, ok, held, degraded, failed), 0 for the others.",
		[]string{"template", "dest", "state"}, nil)
	descTemplateTime = prometheus.NewDesc("ctpl_template_last_timestamp_seconds",
		"Unix time of a template's last complete render, destination change and successful reload.",
		[]string{"template", "dest", "event"}, nil)
	descWatched = prometheus.NewDesc("ctpl_watched_queries",
		"Distinct queries being watched.", nil, nil)
	descAge = prometheus.NewDesc("ctpl_query_data_age_seconds",
		"How old a query's data is: 0 while the query is healthy, the time since it began to fail while it fails.",
		[]string{"query"}, nil)
	descFailing = prometheus.NewDesc("ctpl_query_failing",
		"1 while a query's requests fail.", []string{"query"}, nil)
	descWarning = prometheus.NewDesc("ctpl_query_warning",
		"1 while a query's last answer carries a warning (Consul's ACLs filtered it to nothing).", []string{"query"}, nil)
	descDCAge = prometheus.NewDesc("ctpl_datacenter_data_age_seconds",
		"How old a datacenter's oldest data is: 0 while none of its queries fails, else the time since the first began to fail.",
		[]string{"datacenter"}, nil)
	descDCFailing = prometheus.NewDesc("ctpl_datacenter_failing_queries",
		"Queries of a datacenter failing now.", []string{"datacenter"}, nil)
	descConns = prometheus.NewDesc("ctpl_consul_open_connections",
		"TCP connections currently open to Consul.", nil, nil)
	descExecStarts = prometheus.NewDesc("ctpl_exec_child_starts_total",
		"Times the exec-mode child was started.", nil, nil)
)

var states = []string{renderer.StatePending, renderer.StateOK, renderer.StateHeld, renderer.StateDegraded, renderer.StateFailed}

// scrapeCollector reads the Sources at scrape time.
type scrapeCollector struct{ src Sources }

func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReady, descTemplateState, descTemplateTime, descWatched, descAge,
		descFailing, descWarning, descDCAge, descDCFailing, descConns, descExecStarts, descInstances, descChanges, descWaiting} {
		ch <- d
	}
}

func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Status != nil {
		st := c.src.Status()
		collectStatus(ch, st)
		collectOperator(ch, st) // operator.go
	}
	if c.src.Freshness != nil {
		now := time.Now()
		qs := c.src.Freshness()
		ch <- prometheus.MustNewConstMetric(descWatched, prometheus.GaugeValue, float64(len(qs)))
		for key, q := range qs {
			ch <- prometheus.MustNewConstMetric(descAge, prometheus.GaugeValue, q.Age(now).Seconds(), key)
			ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, bool01(q.Err != ""), key)
			ch <- prometheus.MustNewConstMetric(descWarning, prometheus.GaugeValue, bool01(q.Warning != ""), key)
		}
		for _, d := range datacenters(qs, func(string, string) bool { return false }, now) {
			ch <- prometheus.MustNewConstMetric(descDCAge, prometheus.GaugeValue, d.AgeSeconds, d.Name)
			ch <- prometheus.MustNewConstMetric(descDCFailing, prometheus.GaugeValue, float64(d.Failing), d.Name)
		}
	}
	if c.src.OpenConns != nil {
		ch <- prometheus.MustNewConstMetric(descConns, prometheus.GaugeValue, float64(c.src.OpenConns()))
	}
	if c.src.Exec != nil {
		ch <- prometheus.MustNewConstMetric(descExecStarts, prometheus.CounterValue, float64(c.src.Exec().Starts))
	}
}

func collectStatus(ch chan<- prometheus.Metric, st renderer.Status) {
	ch <- prometheus.MustNewConstMetric(descReady, prometheus.GaugeValue, bool01(st.Ready))
	seen := map[[2]string]bool{} // two inline templates may share a name and a destination never
	for _, t := range st.Templates {
		id := [2]string{t.Source, t.Dest}
		if seen[id] {
			continue
		}
		seen[id] = true
		for _, s := range states {
			ch <- prometheus.MustNewConstMetric(descTemplateState, prometheus.GaugeValue, bool01(t.State == s),
				t.Source, t.Dest, s)
		}
		for event, at := range map[string]time.Time{"render": t.LastRender, "write": t.LastWrite, "reload": t.LastReload} {
			if !at.IsZero() {
				ch <- prometheus.MustNewConstMetric(descTemplateTime, prometheus.GaugeValue,
					float64(at.UnixNano())/1e9, t.Source, t.Dest, event)
			}
		}
	}
}

func bool01(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
