package consul_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// BenchmarkColdStart reads every service of a seeded agent the way a cold
// start does: a new client, then a first (plain) read of each service's
// passing instances, all queries started at once, as the watcher starts
// them. It measures the adapter alone: requests, budget, decoding.
// CTPL_BENCH_SERVICES sets the number of services (default 1,000; 10
// instances each on 200 nodes).
func BenchmarkColdStart(b *testing.B) {
	services := 1000
	if v, err := strconv.Atoi(os.Getenv("CTPL_BENCH_SERVICES")); err == nil && v > 0 {
		services = v
	}
	agent := consultest.Start(b, consultest.WithHCL("limits { http_max_conns_per_client = 10000 }"))
	began := time.Now()
	seedServices(b, agent.URL(), services, 10)
	b.Logf("seeded %d×10 in %s", services, time.Since(began).Round(time.Millisecond))
	specs := make([]watch.Spec, services)
	for i := range specs {
		specs[i], _ = watch.ParseService(fmt.Sprintf("svc%05d", i))
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		c, err := consul.New(consul.Options{Address: agent.Addr(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		for _, spec := range specs {
			q, err := c.Query(spec)
			if err != nil {
				b.Fatal(err)
			}
			wg.Go(func() {
				res, err := q.Fetch(b.Context(), watch.FetchOptions{Wait: time.Minute})
				if err != nil || len(res.Value.([]*watch.HealthService)) != 10 {
					b.Errorf("fetch %s: %v", spec, err)
				}
			})
		}
		wg.Wait()
		c.Close()
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
}

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// seedServices registers n services of m instances with a passing check
// each, on 200 nodes, in transactions of at most 64 operations.
func seedServices(b *testing.B, base string, n, m int) {
	b.Helper()
	const nodes = 200
	type op map[string]any
	var ops []op
	for k := range nodes {
		ops = append(ops, op{"Node": op{"Verb": "set", "Node": op{
			"Node": fmt.Sprintf("node%03d", k), "Address": fmt.Sprintf("192.168.%d.%d", k>>8, k&255)}}})
	}
	for s := range n {
		for j := range m {
			g := s*m + j
			node, id := fmt.Sprintf("node%03d", g%nodes), fmt.Sprintf("svc%05d-%d", s, j)
			ops = append(ops,
				op{"Service": op{"Verb": "set", "Node": node, "Service": op{"ID": id, "Service": fmt.Sprintf("svc%05d", s),
					"Address": fmt.Sprintf("10.%d.%d.%d", g>>16&255, g>>8&255, g&255), "Port": 20000 + j}}},
				op{"Check": op{"Verb": "set", "Check": op{"Node": node, "CheckID": "chk-" + id, "Name": "alive",
					"Status": "passing", "ServiceID": id}}})
		}
	}
	for len(ops) > 0 {
		k := min(len(ops), 64) // nodes first: the instances refer to them
		body, err := json.Marshal(ops[:k])
		if err != nil {
			b.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPut, base+"/v1/txn", bytes.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("txn: %s", resp.Status)
		}
		ops = ops[k:]
	}
}
