package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// fleetFile is the file every tool instance renders.
const fleetFile = "all.txt"

// toolFleet is one tool process per client agent, each with its own
// output directory and observer, and a sampler of their connections.
type toolFleet struct {
	procs []*proc
	obs   []*observer
	ports []int // procs[i] talks to the client agent on ports[i]

	mu    sync.Mutex
	conns []int // the most connections each process held at once
	stopS context.CancelFunc
	wg    sync.WaitGroup
}

// connSample is how often the fleet counts its processes' connections:
// one read of the machine's TCP table for all of them (with 16
// consul-template processes it holds thousands of lines), seldom enough
// not to weigh on the CPU being measured.
const connSample = time.Second

// startToolFleet starts one instance of tl per client agent, all on the
// bench template, each talking to its own agent with the tools' token.
func startToolFleet(t *tb, fc *fleetCluster, sc fleetScenario, tl tool) (*toolFleet, error) {
	fl := &toolFleet{}
	for k, a := range fc.clients {
		p, obs, err := startFleetTool(t, fc, a, tl, k)
		if err != nil {
			fl.stop(fleetStop(tl))
			return nil, fmt.Errorf("start %s for agent %d: %w", tl.name, k, err)
		}
		fl.procs, fl.obs = append(fl.procs, p), append(fl.obs, obs)
		_, port, _ := net.SplitHostPort(a.Addr())
		n, _ := strconv.Atoi(port)
		fl.ports = append(fl.ports, n)
	}
	fl.conns = make([]int, len(fl.procs))
	ctx, cancel := context.WithCancel(t.ctx)
	fl.stopS = cancel
	fl.wg.Go(func() { fl.sampleConns(ctx) })
	return fl, nil
}

// startFleetTool writes one instance's config and starts it.
func startFleetTool(t *tb, fc *fleetCluster, a *consultest.Agent, tl tool, k int) (*proc, *observer, error) {
	dir := t.TempDir()
	w := &workload{templates: []template{{name: fleetFile, text: allTemplate}}, outDir: filepath.Join(dir, "out"),
		addr: a.Addr(), token: fc.token, reloadLog: filepath.Join(dir, "reloads.log")}
	if err := os.MkdirAll(w.outDir, 0o755); err != nil {
		return nil, nil, err
	}
	obs, err := newObserver(w.outDir)
	if err != nil {
		return nil, nil, err
	}
	args, err := tl.config(w, dir)
	if err != nil {
		obs.close()
		return nil, nil, err
	}
	p, err := startProc(tl.bin, args, filepath.Join(dir, fmt.Sprintf("%s-%d.log", tl.name, k)), nil)
	if err != nil {
		obs.close()
		return nil, nil, err
	}
	return p, obs, nil
}

// pids returns the tools' process IDs; none for a nil fleet (the
// baseline).
func (fl *toolFleet) pids() []int {
	if fl == nil {
		return nil
	}
	out := make([]int, 0, len(fl.procs))
	for _, p := range fl.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// firstRender waits until every agent's file holds every instance and
// returns the slowest agent's time from its process's start.
func (fl *toolFleet) firstRender(sc fleetScenario, timeout time.Duration) (time.Duration, error) {
	want := sc.n * sc.m
	var slowest time.Duration
	for k, obs := range fl.obs {
		p := fl.procs[k]
		at, ok := obs.waitFor(fleetFile, func(b []byte) bool { return bytes.Count(b, []byte("\n"))-1 == want },
			p.started.Add(timeout))
		if !ok {
			return 0, fmt.Errorf("agent %d: no complete render within %s", k, timeout)
		}
		slowest = max(slowest, at.Sub(p.started))
	}
	return slowest, nil
}

// sampleConns records, every connSample, the most connections each tool
// process holds to its client agent.
func (fl *toolFleet) sampleConns(ctx context.Context) {
	tick := time.NewTicker(connSample)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		table := establishedTCP()
		for k, p := range fl.procs {
			inodes, n := socketInodes(p.cmd.Process.Pid), 0
			for _, c := range table {
				if c.rport == fl.ports[k] && inodes[c.inode] {
					n++
				}
			}
			fl.mu.Lock()
			fl.conns[k] = max(fl.conns[k], n)
			fl.mu.Unlock()
		}
	}
}

// maxConns returns the most connections any one tool process held.
func (fl *toolFleet) maxConns() int {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	n := 0
	for _, c := range fl.conns {
		n = max(n, c)
	}
	return n
}

// running reports whether every tool process still runs.
func (fl *toolFleet) running() bool {
	for _, p := range fl.procs {
		if !p.running() {
			return false
		}
	}
	return true
}

// stop stops the sampler, then every tool with sig (all at once; SIGKILL
// after 10 s), and closes the observers.
func (fl *toolFleet) stop(sig syscall.Signal) {
	if fl.stopS != nil {
		fl.stopS()
	}
	fl.wg.Wait()
	var wg sync.WaitGroup
	for _, p := range fl.procs {
		wg.Go(func() { p.finish(sig) })
	}
	wg.Wait()
	for _, obs := range fl.obs {
		obs.close()
	}
	fl.procs, fl.obs = nil, nil
}
