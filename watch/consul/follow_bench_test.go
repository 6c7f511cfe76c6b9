package consul_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// BenchmarkFollowers watches N services × 10 instances on 200 nodes
// (N = CTPL_BENCH_SERVICES, default 2,000) with the default plain-HTTP
// budget, so that most queries follow the change detectors, and times
// registrations under existing names and health flips from the write's
// return to the query's update. It reports p50 and p99 and the client's
// sweep counters.
func BenchmarkFollowers(b *testing.B) {
	services := 2000
	if v, err := strconv.Atoi(os.Getenv("CTPL_BENCH_SERVICES")); err == nil && v > 0 {
		services = v
	}
	if v, err := strconv.Atoi(os.Getenv("CTPL_BENCH_NODES")); err == nil && v > 0 {
		benchNodes = v
	}
	agent := consultest.Start(b)
	seedTxn(b, agent, services)
	c, err := consul.New(consul.Options{Address: agent.Addr(), Logger: testLoggerB(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	w := watch.New(b.Context(), c, watch.Options{Wait: 5 * time.Minute, Logger: testLoggerB(b)})
	defer w.Close()
	began := time.Now()
	for i := range services {
		spec, _ := watch.ParseService(benchSvc(i))
		if err := w.Watch(spec); err != nil {
			b.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for len(seen) < services {
		seen[nextB(b, w, 5*time.Minute).Key] = true
	}
	b.Logf("%d services: every query answered in %s", services, time.Since(began).Round(time.Millisecond))
	before := c.Stats()
	var regs, flips []time.Duration
	b.ResetTimer()
	for k := range b.N {
		s := (k * 7919) % services
		key := fmt.Sprintf("health.service(%s)", benchSvc(s))
		node := fmt.Sprintf("node%03d", k%benchNodes)
		for _, del := range []bool{false, true} {
			op := map[string]any{"Verb": "set", "Node": node, "Service": map[string]any{"ID": "extra", "Service": benchSvc(s), "Port": 30000}}
			if del {
				op["Verb"] = "delete"
			}
			txn(b, agent, []map[string]any{{"Service": op}})
			wrote := time.Now()
			waitFor(b, c, w, key, func(hs []*watch.HealthService) bool {
				return slices.ContainsFunc(hs, func(h *watch.HealthService) bool { return h.Port == 30000 }) != del
			})
			regs = append(regs, time.Since(wrote))
		}
		for _, status := range []string{"critical", "passing"} {
			inst := fmt.Sprintf("%s-%d", benchSvc(s), k%10)
			txn(b, agent, []map[string]any{{"Check": map[string]any{"Verb": "set", "Check": map[string]any{
				"Node": benchNode(s, k%10), "CheckID": "chk-" + inst, "Name": "alive", "Status": status, "ServiceID": inst}}}})
			wrote := time.Now()
			waitFor(b, c, w, key, func(hs []*watch.HealthService) bool { return len(hs) == 10 == (status == "passing") })
			flips = append(flips, time.Since(wrote))
		}
	}
	b.StopTimer()
	after := c.Stats()
	b.ReportMetric(float64(pct(regs, 50).Microseconds())/1000, "reg-p50-ms")
	b.ReportMetric(float64(pct(regs, 99).Microseconds())/1000, "reg-p99-ms")
	b.ReportMetric(float64(pct(flips, 50).Microseconds())/1000, "flip-p50-ms")
	b.ReportMetric(float64(pct(flips, 99).Microseconds())/1000, "flip-p99-ms")
	b.ReportMetric(float64(after.Sweeps-before.Sweeps)/float64(b.N), "sweeps/op")
	b.ReportMetric(float64(after.Probes-before.Probes)/float64(b.N), "probes/op")
}

func benchSvc(s int) string     { return fmt.Sprintf("svc%05d", s) }
func benchNode(s, j int) string { return fmt.Sprintf("node%03d", (s*10+j)%benchNodes) }

// benchNodes is how many nodes carry the instances (CTPL_BENCH_NODES).
var benchNodes = 200

func testLoggerB(*testing.B) *slog.Logger { return slog.New(slog.DiscardHandler) }

func pct(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// seedTxn registers 200 nodes and services × 10 instances, each with a
// passing check, through /v1/txn.
func seedTxn(b *testing.B, agent *consultest.Agent, services int) {
	var ops []map[string]any
	for n := range benchNodes {
		ops = append(ops, map[string]any{"Node": map[string]any{"Verb": "set", "Node": map[string]any{
			"Node": fmt.Sprintf("node%03d", n), "Address": fmt.Sprintf("192.168.0.%d", n)}}})
	}
	for s := range services {
		for j := range 10 {
			id := fmt.Sprintf("%s-%d", benchSvc(s), j)
			ops = append(ops,
				map[string]any{"Service": map[string]any{"Verb": "set", "Node": benchNode(s, j), "Service": map[string]any{
					"ID": id, "Service": benchSvc(s), "Port": 20000 + j}}},
				map[string]any{"Check": map[string]any{"Verb": "set", "Check": map[string]any{
					"Node": benchNode(s, j), "CheckID": "chk-" + id, "Name": "alive", "Status": "passing", "ServiceID": id}}})
		}
	}
	for len(ops) > 0 {
		n := min(len(ops), 128)
		txn(b, agent, ops[:n])
		ops = ops[n:]
	}
}

func txn(b *testing.B, agent *consultest.Agent, ops []map[string]any) {
	body, err := json.Marshal(ops)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(b.Context(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPut, agent.URL()+"/v1/txn", bytes.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("txn: %s", resp.Status)
	}
}

func nextB(b *testing.B, w *watch.Watcher, within time.Duration) watch.Update {
	select {
	case u := <-w.Updates():
		if u.Err != nil {
			b.Fatalf("%s: %v", u.Key, u.Err)
		}
		return u
	case <-time.After(within):
		b.Fatalf("no update within %s", within)
	}
	return watch.Update{}
}

// waitFor waits for an update of key that satisfies ok. When none comes,
// it fails with the client's counters and, with CTPL_BENCH_DUMP set, writes
// every goroutine's stack to that file.
func waitFor(b *testing.B, c *consul.Client, w *watch.Watcher, key string, ok func([]*watch.HealthService) bool) {
	deadline := time.After(30 * time.Second)
	for {
		select {
		case u := <-w.Updates():
			if u.Err == nil && u.Key == key && ok(u.Value.([]*watch.HealthService)) {
				return
			}
		case <-deadline:
			if f := os.Getenv("CTPL_BENCH_DUMP"); f != "" {
				if out, err := os.Create(f); err == nil {
					_ = pprof.Lookup("goroutine").WriteTo(out, 1)
					out.Close()
				}
			}
			b.Fatalf("%s: no update within 30s; stats %+v", key, c.Stats())
		}
	}
}
