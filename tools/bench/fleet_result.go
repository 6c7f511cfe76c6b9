package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// fleetResult is one run of one tool on one scenario, on its own cluster.
type fleetResult struct {
	scenario, tool string
	agents         int // client agents, one tool instance each
	run            int // 1-based
	took           time.Duration
	err            string
	rendered       bool
	alive          bool
	firstRender    time.Duration // the slowest agent's, from its process's start
	quiet          time.Duration // from the seeding until the servers settled
	settled        time.Duration // from the last first render until every tool was idle
	base, phase    phase         // the flips with no tool, and with the tools
	conns          int           // the most connections one tool process held
}

// fleetNumbers are a run's costs per change per agent, the baseline
// subtracted, and its latencies.
type fleetNumbers struct {
	serverCPU, serverRPCs, clientCPU, toolCPU float64 // ms, count, ms, ms
	flipP50, flipP99                          time.Duration
	agentP50, agentP99                        time.Duration
	firstRender                               time.Duration
	conns                                     int
}

// baseScale is how much of the baseline to subtract from the tool phase:
// the ratio of their durations, 1 when the tool phase kept the schedule
// (most of an idle cluster's cost is time: Raft, gossip, anti-entropy).
func (r fleetResult) baseScale() float64 {
	if r.base.dur <= 0 {
		return 1
	}
	return float64(r.phase.dur) / float64(r.base.dur)
}

// perChange divides what the tool phase cost more than the baseline by
// the changes made and the agents.
func (r fleetResult) perChange(tool, base float64) float64 {
	if r.phase.flips == 0 || r.agents == 0 {
		return 0
	}
	return (tool - base*r.baseScale()) / float64(r.phase.flips) / float64(r.agents)
}

func (r fleetResult) numbers() fleetNumbers {
	p, b := r.phase, r.base
	return fleetNumbers{
		serverCPU:   r.perChange(ms(p.serverCPU), ms(b.serverCPU)),
		serverRPCs:  r.perChange(p.rpcs, b.rpcs),
		clientCPU:   r.perChange(ms(p.clientCPU), ms(b.clientCPU)),
		toolCPU:     r.perChange(ms(p.toolCPU), 0),
		flipP50:     percentile(p.lat, 50),
		flipP99:     percentile(p.lat, 99),
		agentP50:    percentile(p.agentLat, 50),
		agentP99:    percentile(p.agentLat, 99),
		firstRender: r.firstRender,
		conns:       r.conns,
	}
}

// endpointsPerChange returns the client agents' counters of the tool phase
// minus the baseline's, per change per agent.
func (r fleetResult) endpointsPerChange() counters {
	out := counters{}
	for k, v := range r.phase.endpoints {
		if d := r.perChange(v, r.base.endpoints[k]); d > 0.005 || d < -0.005 {
			out[k] = d
		}
	}
	return out
}

func (r fleetResult) summary() string {
	if !r.rendered {
		return "failed: " + r.err
	}
	n := r.numbers()
	s := fmt.Sprintf("server CPU %.2f ms and %.1f RPCs per change per agent, client agents %.2f ms, tool %.2f ms, "+
		"flip p50 %s p99 %s, first render %s, settled %s, max conns %d, %d flips (%d missed, %d late)",
		n.serverCPU, n.serverRPCs, n.clientCPU, n.toolCPU, fmtDur(n.flipP50), fmtDur(n.flipP99),
		fmtDur(n.firstRender), r.settled.Round(time.Millisecond), n.conns, r.phase.flips, r.phase.missed, r.phase.late)
	if p50s := r.agentP50s(); len(p50s) > 0 {
		s += ", each agent's p50: " + strings.Join(p50s, " ")
	}
	if r.err != "" {
		s += "; " + r.err
	}
	return s
}

// agentP50s returns each agent's median flip latency, in agent order:
// phase.agentLat holds, for every flip every agent saw, one latency per
// agent in that order.
func (r fleetResult) agentP50s() []string {
	lat := r.phase.agentLat
	if r.agents == 0 || len(lat)%r.agents != 0 {
		return nil
	}
	var out []string
	for k := range r.agents {
		var mine []time.Duration
		for i := k; i < len(lat); i += r.agents {
			mine = append(mine, lat[i])
		}
		out = append(out, fmtDur(percentile(mine, 50)))
	}
	return out
}

// fleetRow is the median of a tool's runs on a scenario.
type fleetRow struct {
	scenario, tool string
	runs, ok       int // runs made, runs that rendered
	err            string
	n              fleetNumbers
}

// fleetMedians groups the runs by scenario and tool, in run order, and
// takes the median of each number over the runs that rendered.
func fleetMedians(runs []fleetResult) []fleetRow {
	var rows []fleetRow
	for _, r := range runs {
		i := slices.IndexFunc(rows, func(w fleetRow) bool { return w.scenario == r.scenario && w.tool == r.tool })
		if i < 0 {
			rows = append(rows, fleetRow{scenario: r.scenario, tool: r.tool})
			i = len(rows) - 1
		}
		rows[i].runs++
		if r.err != "" {
			rows[i].err = r.err
		}
	}
	for i := range rows {
		var ns []fleetNumbers
		for _, r := range runs {
			if r.scenario == rows[i].scenario && r.tool == rows[i].tool && r.rendered {
				ns = append(ns, r.numbers())
			}
		}
		rows[i].ok = len(ns)
		if len(ns) == 0 {
			continue
		}
		rows[i].n = fleetNumbers{
			serverCPU:   median(ns, func(n fleetNumbers) float64 { return n.serverCPU }),
			serverRPCs:  median(ns, func(n fleetNumbers) float64 { return n.serverRPCs }),
			clientCPU:   median(ns, func(n fleetNumbers) float64 { return n.clientCPU }),
			toolCPU:     median(ns, func(n fleetNumbers) float64 { return n.toolCPU }),
			flipP50:     median(ns, func(n fleetNumbers) time.Duration { return n.flipP50 }),
			flipP99:     median(ns, func(n fleetNumbers) time.Duration { return n.flipP99 }),
			agentP50:    median(ns, func(n fleetNumbers) time.Duration { return n.agentP50 }),
			agentP99:    median(ns, func(n fleetNumbers) time.Duration { return n.agentP99 }),
			firstRender: median(ns, func(n fleetNumbers) time.Duration { return n.firstRender }),
			conns:       median(ns, func(n fleetNumbers) int { return n.conns }),
		}
	}
	return rows
}

// median returns the median of f over xs (the mean of the middle two for
// an even count; with 2 runs, their mean).
func median[T any, V int | float64 | time.Duration](xs []T, f func(T) V) V {
	vs := make([]V, 0, len(xs))
	for _, x := range xs {
		vs = append(vs, f(x))
	}
	slices.SortFunc(vs, cmp.Compare[V])
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2]
	}
	return (vs[n/2-1] + vs[n/2]) / 2
}
