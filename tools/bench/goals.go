package main

import (
	"fmt"
	"strings"
	"time"
)

// goal is one target of issue 4, checked against ctpl's result on a
// scenario.
type goal struct {
	what     string
	scenario string // a scenario name prefix
	target   float64
	unit     string
	value    func(result) float64
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

var issueGoals = []goal{
	{"flip p50", "1,000×10 (raised", 5, "ms", func(r result) float64 { return ms(percentile(r.lat, 50)) }},
	{"flip p99", "1,000×10 (raised", 15, "ms", func(r result) float64 { return ms(percentile(r.lat, 99)) }},
	{"flip p50", "10,000×10 TLS", 10, "ms", func(r result) float64 { return ms(percentile(r.lat, 50)) }},
	{"flip p99", "10,000×10 TLS", 50, "ms", func(r result) float64 { return ms(percentile(r.lat, 99)) }},
	{"flip p99 (health within 250 ms)", "10,000×10 plain", 250, "ms", func(r result) float64 { return ms(percentile(r.lat, 99)) }},
	{"registration p99", "10,000×10 plain", 2000, "ms", func(r result) float64 { return ms(percentile(r.reg, 99)) }},
	{"CPU per 1,000 changes", "1,000×10 (raised", 2.5, "s", func(r result) float64 { return r.cpuPer1k }},
	{"churn reloads", "1,000×10 (raised", 35, "", func(r result) float64 { return float64(r.reloads) }},
	{"lost updates", "1,000×10 (raised", 0, "", func(r result) float64 { return float64(r.lost) }},
	{"first render", "1,000×10 (raised", 1000, "ms", func(r result) float64 { return ms(r.firstRender) }},
	{"first render", "10,000×10 TLS", 10000, "ms", func(r result) float64 { return ms(r.firstRender) }},
	{"peak RSS", "1,000×10 (raised", 60, "MB", func(r result) float64 { return float64(r.rss >> 20) }},
	{"peak RSS", "10,000×10 TLS", 400, "MB", func(r result) float64 { return float64(r.rss >> 20) }},
	{"connections over TLS", "10,000×10 TLS", 4, "", func(r result) float64 { return float64(r.conns) }},
	{"connections over plain HTTP", "10,000×10 plain", 100, "", func(r result) float64 { return float64(r.conns) }},
	{"connections over plain HTTP", "1,000×10 (default", 100, "", func(r result) float64 { return float64(r.conns) }},
}

// goals reports each goal ctpl was measured on: met, or missed by how much.
func goals(results []result) string {
	var b strings.Builder
	b.WriteString("## Goals of issue 4 (ctpl)\n\n| goal | scenario | target | measured | |\n| --- | --- | --- | --- | --- |\n")
	for _, g := range issueGoals {
		for _, r := range results {
			if r.tool != "ctpl" || !strings.HasPrefix(r.scenario, g.scenario) {
				continue
			}
			if !r.rendered {
				fmt.Fprintf(&b, "| %s | %s | ≤ %g %s | never rendered | missed |\n", g.what, r.scenario, g.target, g.unit)
				continue
			}
			v := g.value(r)
			verdict := "met"
			if v > g.target {
				verdict = fmt.Sprintf("missed by %.3g %s", v-g.target, g.unit)
				if g.target > 0 {
					verdict += fmt.Sprintf(" (%.1f×)", v/g.target)
				}
			}
			fmt.Fprintf(&b, "| %s | %s | ≤ %g %s | %.3g %s | %s |\n", g.what, r.scenario, g.target, g.unit, v, g.unit, verdict)
		}
	}
	return b.String()
}
