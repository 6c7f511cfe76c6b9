package main

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"
)

// phase is what one flip phase cost: the baseline's with no tool running,
// or the tools'.
type phase struct {
	flips     int // health writes made
	dur       time.Duration
	serverCPU time.Duration // summed over servers
	clientCPU time.Duration // summed over client agents
	toolCPU   time.Duration // summed over tool processes
	rpcs      float64       // served by the servers: consul_rpc_request + consul_rpc_query
	lat       []time.Duration
	agentLat  []time.Duration // per flip and agent
	missed    int             // flips some agent's file never showed
	late      int             // flips started late: the previous one took longer than the period
	// endpoints counts, summed over the client agents, the HTTP requests
	// they served by endpoint and the RPCs they sent ("client RPCs").
	endpoints counters
}

// flipTimeout bounds the wait for every agent to show one flip;
// maxMisses ends a phase after that many flips in a row nobody showed.
const (
	flipTimeout = 5 * time.Second
	maxMisses   = 5
)

// flipPhase flips fo.flips times, one instance critical then passing
// again, the k-th flip starting at k × fo.period (later when the previous
// flip took longer), and ends one period after the last flip's start, so
// that a baseline phase and a tool phase last the same time. With a tool
// fleet it waits after each write until every agent's file shows the
// change. The instances are the same in every phase of every run.
func (fc *fleetCluster) flipPhase(t *tb, fo fleetOptions, fl *toolFleet) phase {
	var p phase
	servers, clients, tools := fc.serverPIDs(), fc.clientPIDs(), fl.pids()
	ep0, err := fc.agentCounters(t.ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	rpc0 := fc.serverRPCs(t)
	s0, c0, t0 := sumCPU(servers), sumCPU(clients), sumCPU(tools)
	began := time.Now()
	rng := rand.New(rand.NewPCG(1, 2))
	var i instance
	misses := 0
	for k := 0; k < fo.flips && misses < maxMisses; k++ {
		if k%2 == 0 {
			i = instance{rng.IntN(fc.reg.n), rng.IntN(fc.reg.m)}
		}
		if !pace(t.ctx, began.Add(time.Duration(k)*fo.period)) {
			break
		}
		if k > 0 && time.Since(began) > time.Duration(k)*fo.period+fo.period/10 {
			p.late++
		}
		if fc.flip(t.ctx, fl, i, k%2 == 1, &p) {
			misses = 0
		} else {
			misses++
		}
	}
	pace(t.ctx, began.Add(time.Duration(p.flips)*fo.period))
	p.dur = time.Since(began)
	p.serverCPU, p.clientCPU, p.toolCPU = sumCPU(servers)-s0, sumCPU(clients)-c0, sumCPU(tools)-t0
	p.rpcs = fc.serverRPCs(t) - rpc0
	ep1, err := fc.agentCounters(t.ctx)
	if err != nil {
		t.Fatalf("%v", err)
	}
	p.endpoints = ep1.sub(ep0)
	delete(p.endpoints, "GET v1_agent_metrics") // this phase's own reads
	return p
}

// flip sets one instance's health through the leader and, with a tool
// fleet, waits until every agent's file shows it, recording the
// latencies; false when the write failed or some agent missed it.
func (fc *fleetCluster) flip(ctx context.Context, fl *toolFleet, i instance, passing bool, p *phase) bool {
	if err := fc.reg.setHealth(ctx, i, passing); err != nil {
		logf("fleet: flip %d: %v", p.flips, err)
		p.missed++
		return false
	}
	p.flips++
	wrote := time.Now()
	if fl == nil {
		return true
	}
	line := fc.reg.line(i)
	lat := make([]time.Duration, 0, len(fl.obs))
	for k, obs := range fl.obs {
		at, ok := obs.waitFor(fleetFile, func(b []byte) bool { return hasLine(b, line) == passing }, wrote.Add(flipTimeout))
		if !ok {
			logf("fleet: flip %d (%s passing=%t): agent %d's file did not show it within %s (log %s)",
				p.flips, line, passing, k, flipTimeout, fl.procs[k].logPath)
			p.missed++
			return false
		}
		lat = append(lat, max(at.Sub(wrote), 0))
	}
	p.agentLat = append(p.agentLat, lat...)
	p.lat = append(p.lat, slices.Max(lat))
	return true
}

// pace waits until at, the schedule of the workload (not a
// synchronisation); false when ctx ended first.
func pace(ctx context.Context, at time.Time) bool {
	d := time.Until(at)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
