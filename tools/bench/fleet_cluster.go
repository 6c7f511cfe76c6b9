package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// fleetCluster is one fresh cluster of a fleet run, seeded, with the
// tools' token.
type fleetCluster struct {
	c       *consultest.Cluster
	servers []*consultest.Agent
	clients []*consultest.Agent
	reg     *registry // writes through the leader with the management token
	token   string    // the tools' least-privilege token
	hc      *http.Client
}

// raisedClientLimit lets consul-template, which holds one connection per
// query, open its 1,001 connections to its client agent at 1,000 services
// (Consul refuses a client's 201st by default). Given to every agent; only
// the client agents' HTTP APIs serve the tools.
const raisedClientLimit = "limits { http_max_conns_per_client = 4096 }"

// startFleetCluster starts the scenario's cluster, creates the tools' token
// and seeds the registry through the leader.
func startFleetCluster(t *tb, sc fleetScenario) *fleetCluster {
	began := time.Now()
	c := consultest.StartCluster(t, consultest.Servers(fleetServers), consultest.Clients(sc.clients),
		consultest.ClusterHCL(raisedClientLimit))
	fc := &fleetCluster{c: c, servers: c.Servers(), clients: c.Clients(), hc: &http.Client{}}
	fc.token = c.CreateToken(t, fleetRules)
	leader := c.Leader(t)
	fc.reg = &registry{base: leader.URL(), token: c.ManagementToken(), hc: fc.hc, n: sc.n, m: sc.m}
	started := time.Since(began)
	fc.seed(t)
	logf("fleet %s: cluster of %d servers and %d client agents in %s, seeded %d×%d in %s", sc.name, fleetServers,
		sc.clients, started.Round(time.Millisecond), sc.n, sc.m, (time.Since(began) - started).Round(time.Millisecond))
	return fc
}

// seedAttempts bounds seeding: on a loaded machine a fresh cluster may
// change leaders while it is seeded ("raft apply failed: node is not the
// leader"); seeding sets every entry, so it can be repeated.
const seedAttempts = 3

// seed seeds the registry, again after a failure once the cluster agrees
// on a leader.
func (fc *fleetCluster) seed(t *tb) {
	for k := 1; ; k++ {
		err := fc.reg.seed(t.ctx)
		if err == nil {
			return
		}
		if k == seedAttempts || t.ctx.Err() != nil {
			t.Fatalf("seed: %v", err)
		}
		logf("fleet: seed attempt %d: %v; again once the cluster agrees on a leader", k, err)
		fc.c.WaitLeader(t)
	}
}

func (fc *fleetCluster) serverPIDs() []int { return agentPIDs(fc.servers) }
func (fc *fleetCluster) clientPIDs() []int { return agentPIDs(fc.clients) }

func agentPIDs(agents []*consultest.Agent) []int {
	out := make([]int, 0, len(agents))
	for _, a := range agents {
		out = append(out, a.PID())
	}
	return out
}

// sumCPU returns the summed user+system CPU time of the processes.
func sumCPU(pids []int) time.Duration {
	var d time.Duration
	for _, pid := range pids {
		d += pidCPU(pid)
	}
	return d
}

// idleWindow and idleShare define idle for waitIdle: every process under
// idleShare of a core over idleWindow, as quiesce does for one tool.
const (
	idleWindow = 500 * time.Millisecond
	idleShare  = 0.05
)

// waitIdle waits until every process of pids is idle, at most limit, and
// returns how long it took.
func (fc *fleetCluster) waitIdle(t *tb, pids []int, limit time.Duration) time.Duration {
	began := time.Now()
	prev := cpus(pids)
	tick := time.NewTicker(idleWindow) // sampling interval of the CPU counters
	defer tick.Stop()
	for time.Since(began) < limit {
		select {
		case <-t.ctx.Done():
			return time.Since(began)
		case <-tick.C:
		}
		cur := cpus(pids)
		busy := false
		for i := range cur {
			busy = busy || float64(cur[i]-prev[i]) >= idleShare*float64(idleWindow)
		}
		if !busy {
			break
		}
		prev = cur
	}
	return time.Since(began)
}

// settleCluster bounds settle. A fresh cluster serves a burst of RPCs in
// its first seconds (the client agents' first anti-entropy syncs and
// coordinates, the leader's set-up); measured at 200×10 with 4 client
// agents: 39, 22, 13 RPCs in the first 2 s windows after seeding, then a
// steady 9 (autopilot's stats of each server every 2 s).
const settleCluster = 30 * time.Second

// settle waits, at most limit, until the servers are idle and the RPCs
// they serve per 2 s window are steady (two windows in a row within 3 or
// 20% of each other), so that the baseline measures the cluster's steady
// state and not the end of its start-up. It returns how long it took.
func (fc *fleetCluster) settle(t *tb, limit time.Duration) time.Duration {
	began := time.Now()
	fc.waitIdle(t, fc.serverPIDs(), limit)
	const window = 2 * time.Second
	prev, last := -1.0, fc.serverRPCs(t)
	for time.Since(began) < limit && pace(t.ctx, time.Now().Add(window)) {
		cur := fc.serverRPCs(t)
		n := cur - last
		if prev >= 0 && n-prev <= max(3, prev/5) && prev-n <= max(3, prev/5) {
			break
		}
		prev, last = n, cur
	}
	return time.Since(began)
}

func cpus(pids []int) []time.Duration {
	out := make([]time.Duration, len(pids))
	for i, pid := range pids {
		out[i] = pidCPU(pid)
	}
	return out
}

// serverRPCs returns the RPCs the servers have served so far: the sum over
// servers of consul_rpc_request (every RPC: client agents' and other
// servers' forwards) and consul_rpc_query (blocking queries).
func (fc *fleetCluster) serverRPCs(t *tb) float64 {
	var n float64
	for _, s := range fc.servers {
		m := s.Metrics(t)
		n += m["consul_rpc_request"] + m["consul_rpc_query"]
	}
	return n
}

// counters is a set of named counts, e.g. HTTP requests by endpoint.
type counters map[string]float64

// sub returns c − base, leaving out zeros.
func (c counters) sub(base counters) counters {
	out := counters{}
	for k, v := range c {
		if d := v - base[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// agentCounters reads, summed over the client agents, the HTTP requests
// they served by method and endpoint (consul_api_http_count, e.g. "GET
// v1_health_service_") and the RPCs they sent to the servers
// ("client RPCs", consul_client_rpc). Metrics drops the labels, so this
// reads the Prometheus text itself.
func (fc *fleetCluster) agentCounters(ctx context.Context) (counters, error) {
	out := counters{}
	for _, a := range fc.clients {
		text, err := fc.promText(ctx, a)
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(text) {
			name, labels, rest, ok := promSample(line)
			if !ok {
				continue
			}
			var v float64
			if _, err := fmt.Sscan(rest, &v); err != nil {
				continue
			}
			switch {
			case name == "consul_client_rpc":
				out["client RPCs"] += v
			case name == "consul_api_http_count" && labels != "":
				out[promLabel(labels, "method")+" "+promLabel(labels, "path")] += v
			}
		}
	}
	return out, nil
}

// promText reads an agent's metrics in Prometheus text format.
func (fc *fleetCluster) promText(ctx context.Context, a *consultest.Agent) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.URL()+"/v1/agent/metrics?format=prometheus", nil)
	if err != nil {
		return "", fmt.Errorf("metrics of %s: %w", a.Node(), err)
	}
	req.Header.Set("X-Consul-Token", fc.c.ManagementToken())
	resp, err := fc.hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("metrics of %s: %w", a.Node(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("metrics of %s: %w", a.Node(), err)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("metrics of %s: %s", a.Node(), resp.Status)
	}
	return string(b), nil
}

// promSample splits a sample line `name{labels} value` (labels optional);
// false for comments and blank lines.
func promSample(line string) (name, labels, rest string, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", "", false
	}
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", "", false
		}
		return line[:i], line[i+1 : j], line[j+1:], true
	}
	name, rest, ok = strings.Cut(line, " ")
	return name, "", rest, ok
}

// promLabel returns the value of label key in a label set.
func promLabel(labels, key string) string {
	for _, kv := range strings.Split(labels, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}
