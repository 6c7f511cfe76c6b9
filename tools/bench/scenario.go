package main

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// scenario is one workload.
type scenario struct {
	name   string
	n, m   int    // services × instances
	perSvc bool   // one template per service instead of one over all
	hcl    string // extra agent configuration
	tls    bool
	// big marks the 10,000-service scenarios: a longer first-render
	// timeout and fewer registrations.
	big bool
	// agent names an agent shared by consecutive scenarios: it is started
	// and seeded once (with HTTPS when any of them uses TLS) and they run
	// on it in turn. Empty: an agent of the scenario's own.
	agent string
	// ctWait bounds consul-template's wait for its first render where it
	// is known never to render (one connection per query); 0: the run's.
	ctWait time.Duration
}

var scenarios = []scenario{
	{name: "1×10", n: 1, m: 10},
	{name: "150×10", n: 150, m: 10},
	{name: "1,000×10 (default conn limit)", n: 1000, m: 10},
	{name: "1,000×10 (raised conn limit)", n: 1000, m: 10, hcl: raisedLimit},
	{name: "100 templates × 1 service×10", n: 100, m: 10, perSvc: true},
	// Seeding 100,000 instances takes minutes: both run on one agent, with
	// Consul's default connection limit.
	{name: "10,000×10 TLS", n: 10000, m: 10, tls: true, big: true, agent: "10k", ctWait: ctBound},
	{name: "10,000×10 plain", n: 10000, m: 10, big: true, agent: "10k", ctWait: ctBound},
}

// ctBound is how long consul-template gets to render at 10,000 services.
// It holds one connection per query (HTTP/1.1 even over TLS) and Consul
// refuses a client's 201st connection, so it never renders there: measured
// over 2 minutes in earlier runs (docs/benchmarks.md); the report says so.
const ctBound = 20 * time.Second

const raisedLimit = "limits { http_max_conns_per_client = 4096 }"

// allTemplate renders every instance of every seeded service.
const allTemplate = `{{range services}}{{if ne .Name "consul"}}{{range service .Name}}{{.Address}}:{{.Port}}
{{end}}{{end}}{{end}}`

// result is what one tool achieved on one scenario.
type result struct {
	scenario, tool string
	err            string
	firstRender    time.Duration
	settled        time.Duration // from the first render until the tool was idle
	rendered       bool
	lat            []time.Duration // isolated flips
	missed         int             // flips never seen
	reg            []time.Duration // registrations and deregistrations
	churnChanges   int
	reloads        int
	lost           int
	cpuPer1k       float64 // CPU seconds per 1,000 churn changes
	rss            int64
	conns          int
	n429           int
	alive          bool
}

// options are the command-line settings a run uses.
type options struct {
	flips         int
	regs          int
	churn         time.Duration
	rate          int
	renderTimeout time.Duration
	verbose       bool
	profileDir    string
	noSettle      bool // isolated flips start right after the first render
}

// run runs the scenarios, which share one agent when more than one is
// given, for every tool and returns one result per scenario and tool, in
// scenario order. On a shared agent each tool runs all its scenarios before
// the next tool starts: consul-template's thousands of connections, still
// closing after it stopped, would otherwise make Consul refuse the next
// ctpl run's first connections (429) and shrink its budget.
func run(ctx context.Context, scs []scenario, tools []tool, o options) (out []result) {
	defer func() {
		rank := func(r result) int {
			i := slices.IndexFunc(scs, func(sc scenario) bool { return sc.name == r.scenario })
			j := slices.IndexFunc(tools, func(tl tool) bool { return tl.name == r.tool })
			return i*len(tools) + j
		}
		slices.SortStableFunc(out, func(a, b result) int { return rank(a) - rank(b) })
	}()
	t := &tb{ctx: ctx, verbose: o.verbose}
	defer t.close()
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(fatal)
			if !ok {
				panic(r)
			}
			for _, sc := range scs {
				for _, tl := range tools {
					if !slices.ContainsFunc(out, func(r result) bool { return r.scenario == sc.name && r.tool == tl.name }) {
						out = append(out, result{scenario: sc.name, tool: tl.name, err: f.msg})
					}
				}
			}
		}
	}()
	var opts []consultest.Option
	first := scs[0]
	if first.hcl != "" {
		opts = append(opts, consultest.WithHCL(first.hcl))
	}
	if slices.ContainsFunc(scs, func(sc scenario) bool { return sc.tls }) {
		opts = append(opts, consultest.WithHTTPS())
	}
	agent := consultest.Start(t, opts...)
	reg := &registry{base: agent.URL(), hc: &http.Client{}, n: first.n, m: first.m}
	began := time.Now()
	if err := reg.seed(ctx); err != nil {
		t.Fatalf("seed: %v", err)
	}
	logf("%s: seeded %d×%d in %s", first.name, first.n, first.m, time.Since(began).Round(time.Millisecond))
	for _, tl := range tools {
		for _, sc := range scs {
			o := o
			if tl.name == consulTemplateTool.name && sc.ctWait > 0 {
				o.renderTimeout = min(o.renderTimeout, sc.ctWait)
			}
			r := runTool(ctx, t, sc, agent, reg, tl, o)
			if !r.rendered && tl.name == consulTemplateTool.name && sc.ctWait > 0 {
				r.err += " (wait bounded: it holds one connection per query and never renders at this scale)"
			}
			logf("%s / %s: %s", sc.name, tl.name, r.summary())
			out = append(out, r)
			if ctx.Err() != nil {
				return out
			}
		}
	}
	return out
}

// fileOf names the file an instance's line is rendered into.
func (sc scenario) fileOf(reg *registry, i instance) string {
	if sc.perSvc {
		return reg.svcName(i.svc) + ".txt"
	}
	return "all.txt"
}

func (sc scenario) templates(reg *registry) []template {
	if !sc.perSvc {
		return []template{{name: "all.txt", text: allTemplate}}
	}
	var out []template
	for s := range sc.n {
		out = append(out, template{name: reg.svcName(s) + ".txt",
			text: fmt.Sprintf("{{range service %q}}{{.Address}}:{{.Port}}\n{{end}}", reg.svcName(s))})
	}
	return out
}

// runTool runs one tool on the seeded agent.
func runTool(ctx context.Context, t *tb, sc scenario, agent *consultest.Agent, reg *registry, tl tool, o options) result {
	r := result{scenario: sc.name, tool: tl.name}
	dir := t.TempDir()
	w := &workload{templates: sc.templates(reg), outDir: filepath.Join(dir, "out"), addr: agent.Addr(),
		reloadLog: filepath.Join(dir, "reloads.log")}
	if sc.tls {
		w.addr, w.caFile = agent.HTTPSURL(), agent.CAFile()
	}
	if err := os.MkdirAll(w.outDir, 0o755); err != nil {
		r.err = err.Error()
		return r
	}
	obs, err := newObserver(w.outDir)
	if err != nil {
		r.err = err.Error()
		return r
	}
	defer obs.close()
	args, err := tl.config(w, dir)
	if err != nil {
		r.err = err.Error()
		return r
	}
	if o.profileDir != "" && tl.name == ctplTool.name {
		base := filepath.Join(o.profileDir, strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return '-'
		}, strings.ToLower(sc.name)))
		args = append(args, "-cpuprofile", base+".cpu.pprof", "-memprofile", base+".allocs.pprof")
	}
	p, err := startProc(tl.bin, args, filepath.Join(dir, tl.name+".log"), agentPorts(agent))
	if err != nil {
		r.err = err.Error()
		return r
	}
	defer p.finish(tl.stop)
	m := &measure{ctx: ctx, sc: sc, reg: reg, obs: obs, p: p, o: o, r: &r, w: w}
	if m.firstRender() {
		if !o.noSettle {
			m.quiesce()
		}
		m.flips()
		m.registrations()
		m.churnRun()
	}
	r.rss, r.conns, r.n429, r.alive = p.peakRSS(), p.peakConns(), p.count429(), p.running()
	if !r.rendered {
		logf("%s / %s log tail:\n%s", sc.name, tl.name, p.tail(1500))
	}
	if !r.alive && r.err == "" {
		r.err = "exited"
	}
	return r
}

func agentPorts(a *consultest.Agent) []int {
	var out []int
	for _, s := range []string{a.URL(), a.HTTPSURL()} {
		if u, err := url.Parse(s); err == nil && u.Port() != "" {
			p, _ := strconv.Atoi(u.Port())
			out = append(out, p)
		}
	}
	return out
}

// measure drives one tool's run.
type measure struct {
	ctx context.Context
	sc  scenario
	reg *registry
	obs *observer
	p   *proc
	o   options
	r   *result
	w   *workload
}

// firstRender waits until every file holds every instance.
func (m *measure) firstRender() bool {
	deadline := m.p.started.Add(m.o.renderTimeout)
	for _, tp := range m.w.templates {
		want := m.sc.m
		if !m.sc.perSvc {
			want = m.sc.n * m.sc.m
		}
		at, ok := m.obs.waitFor(tp.name, func(b []byte) bool { return bytes.Count(b, []byte("\n"))-1 == want }, deadline)
		if !ok {
			m.r.err = fmt.Sprintf("no complete render within %s", m.o.renderTimeout)
			return false
		}
		m.r.firstRender = max(m.r.firstRender, at.Sub(m.p.started))
	}
	m.r.rendered = true
	return true
}

// quiesce waits until the tool is idle after its first render (under 5% of
// a core over half a second, at most settleMax), so that the isolated flips
// measure changes, not the end of its start-up: ctpl's change detectors take
// their baselines and probe every follower once just after it.
func (m *measure) quiesce() {
	const window, idle = 500 * time.Millisecond, 0.05
	began := time.Now()
	prev := m.p.cpu()
	for time.Since(began) < settleMax && m.ctx.Err() == nil {
		time.Sleep(window) // sampling interval of the CPU counter
		cur := m.p.cpu()
		if float64(cur-prev) < idle*float64(window) {
			break
		}
		prev = cur
	}
	m.r.settled = time.Since(began)
}

// settleMax bounds quiesce.
const settleMax = 10 * time.Second

// flipGap spaces isolated flips so that each is measured alone: ctpl paces
// the requests of one query (10 ms on average, burst 8), and back-to-back
// flips of the single query of the 1×10 scenario would measure that pacing
// instead of the latency of one change.
const flipGap = 25 * time.Millisecond

// flips sets random instances critical and back, one at a time, timing
// each change from the write's return to the file.
func (m *measure) flips() {
	rng := rand.New(rand.NewPCG(1, 2))
	for k := 0; k < m.o.flips; k += 2 {
		i := instance{rng.IntN(m.sc.n), rng.IntN(m.sc.m)}
		for _, passing := range []bool{false, true} {
			if m.ctx.Err() != nil {
				return
			}
			time.Sleep(flipGap) // pacing of the workload, not synchronisation
			if d, ok := m.flip(i, passing); ok {
				m.r.lat = append(m.r.lat, d)
			} else {
				m.r.missed++
			}
		}
	}
}

func (m *measure) flip(i instance, passing bool) (time.Duration, bool) {
	if err := m.reg.setHealth(m.ctx, i, passing); err != nil {
		return 0, false
	}
	wrote := time.Now()
	line := m.reg.line(i)
	at, ok := m.obs.waitFor(m.sc.fileOf(m.reg, i), func(b []byte) bool { return hasLine(b, line) == passing }, wrote.Add(5*time.Second))
	return max(at.Sub(wrote), 0), ok
}

// percentile returns the p-th percentile (0–100) by nearest rank.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

func (r result) summary() string {
	if !r.rendered {
		return "no render: " + r.err
	}
	return fmt.Sprintf("first %s, settled %s, p50 %s, p99 %s, reg p99 %s, reloads %d, lost %d, cpu %.2f s/1k, rss %d MB, conns %d, 429 %d, alive %v",
		r.firstRender.Round(time.Millisecond), r.settled.Round(time.Millisecond), percentile(r.lat, 50), percentile(r.lat, 99), percentile(r.reg, 99),
		r.reloads, r.lost, r.cpuPer1k, r.rss>>20, r.conns, r.n429, r.alive)
}
