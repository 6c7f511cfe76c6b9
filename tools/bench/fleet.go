package main

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"
)

// The fleet mode (`make bench-fleet`, `go run ./tools/bench -fleet`)
// measures what each tool costs Consul's servers in production topology: a
// cluster of 3 servers and several client agents with ACLs on, one tool
// instance per client agent talking to its own agent with a least-privilege
// token, every instance rendering the same template over every service.
// Each tool and scenario gets a fresh cluster; see fleetRun for the phases
// and fleetReport for what is subtracted.

// fleetScenario is one production-like topology and registry size.
type fleetScenario struct {
	name    string
	clients int // client agents, one tool instance each
	n, m    int // services × instances
}

// fleetServers is the number of servers of every fleet cluster.
const fleetServers = 3

var fleetScenarios = []fleetScenario{
	{name: "200×10, 4 agents", clients: 4, n: 200, m: 10},
	{name: "1,000×10, 4 agents", clients: 4, n: 1000, m: 10},
	{name: "200×10, 16 agents", clients: 16, n: 200, m: 10},
}

// fleetRules is the tools' least-privilege ACL policy: read every service,
// node and agent, nothing else.
const fleetRules = `service_prefix "" { policy = "read" } node_prefix "" { policy = "read" } agent_prefix "" { policy = "read" }`

// fleetOptions are the command-line settings of a fleet run.
type fleetOptions struct {
	flips         int           // health flips per phase
	runs          int           // fresh clusters per tool and scenario
	period        time.Duration // one flip starts every period
	renderTimeout time.Duration
	verbose       bool
}

// fleetStop is the signal that stops a tool gracefully: consul-template
// ignores SIGTERM, ctpl stops on either.
func fleetStop(tl tool) syscall.Signal {
	if tl.name == consulTemplateTool.name {
		return syscall.SIGINT
	}
	return syscall.SIGTERM
}

// fleetMain runs every selected scenario for every tool fo.runs times, each
// run on a fresh cluster, prints the tables and, with out set, writes them
// into out's fleet section.
func fleetMain(ctx context.Context, tools []tool, fo fleetOptions, only, out string) error {
	began := time.Now()
	var runs []fleetResult
	for _, sc := range fleetScenarios {
		if only != "" && !strings.Contains(sc.name, only) {
			continue
		}
		scBegan := time.Now()
		for k := range fo.runs {
			for _, tl := range tools {
				if ctx.Err() != nil {
					break
				}
				runBegan := time.Now()
				r := fleetRun(ctx, sc, tl, fo)
				r.run, r.took = k+1, time.Since(runBegan)
				logf("fleet %s / %s run %d (%s): %s", sc.name, tl.name, k+1, r.took.Round(time.Second), r.summary())
				runs = append(runs, r)
			}
		}
		logf("fleet %s: %s", sc.name, time.Since(scBegan).Round(time.Second))
	}
	if ctx.Err() != nil {
		return fmt.Errorf("fleet: %w", ctx.Err())
	}
	rows := fleetMedians(runs)
	took := time.Since(began)
	fmt.Println(fleetTable(rows))
	fmt.Println(fleetRatios(rows))
	fmt.Println(fleetRawTable(runs))
	fmt.Println(fleetEndpointTable(runs))
	logf("fleet: total %s", took.Round(time.Second))
	if out == "" {
		return nil
	}
	if err := writeFleetSection(out, fleetReport(rows, runs, fo, took)); err != nil {
		return fmt.Errorf("fleet: %w", err)
	}
	logf("wrote the fleet section of %s", out)
	return nil
}

// fleetRun measures one tool on one scenario on a fresh cluster: start the
// cluster, seed it through a server, wait until the servers settle, flip
// with no tool running (the baseline), start one tool per client agent,
// wait for every first render and for the tools to be idle, flip again.
func fleetRun(ctx context.Context, sc fleetScenario, tl tool, fo fleetOptions) (r fleetResult) {
	r = fleetResult{scenario: sc.name, tool: tl.name, agents: sc.clients}
	t := &tb{ctx: ctx, verbose: fo.verbose}
	defer t.close() // last: the cluster is killed after the tools stopped
	defer func() {
		if p := recover(); p != nil {
			f, ok := p.(fatal)
			if !ok {
				panic(p)
			}
			r.err = f.msg
		}
	}()
	fc := startFleetCluster(t, sc)
	r.quiet = fc.settle(t, settleCluster)
	r.base = fc.flipPhase(t, fo, nil)
	fl, err := startToolFleet(t, fc, sc, tl)
	if err != nil {
		r.err = err.Error()
		return r
	}
	defer fl.stop(fleetStop(tl))
	if r.firstRender, err = fl.firstRender(sc, fo.renderTimeout); err != nil {
		r.err = err.Error()
		logf("fleet %s / %s log tail of the first agent:\n%s", sc.name, tl.name, fl.procs[0].tail(1500))
		return r
	}
	r.rendered = true
	r.settled = fc.waitIdle(t, fl.pids(), settleMax)
	r.phase = fc.flipPhase(t, fo, fl)
	r.conns = fl.maxConns()
	r.alive = fl.running()
	if !r.alive && r.err == "" {
		r.err = "a tool exited"
	}
	return r
}
