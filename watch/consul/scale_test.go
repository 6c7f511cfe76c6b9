package consul_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestManyQueriesWithinBudget watches 200 services of an agent that
// refuses a client's 21st connection, over plain HTTP with an explicit
// budget, with the default budget (which must shrink on the first 429s), and
// over HTTPS with HTTP/2. Every query must deliver the right data without
// an error, a health change must arrive within a second, and the
// connections stay within the budget.
func TestManyQueriesWithinBudget(t *testing.T) {
	tests := []struct {
		name      string
		https     bool
		maxConns  int
		wantConns int // the most connections open at once; 0: the budget must shrink
		// absorbed: requests may fail at the transport (Consul closing
		// connections it refused) as long as no error surfaces
		absorbed bool
	}{
		{name: "plain HTTP, budget 16", maxConns: 16, wantConns: 16},
		// Consul accepts a connection before it refuses it with a 429, so
		// the first burst opens more than Consul keeps: the budget must
		// shrink instead.
		{name: "plain HTTP, default budget shrinks on 429", absorbed: true},
		{name: "HTTPS with HTTP/2", https: true, wantConns: 4},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := []consultest.Option{consultest.WithHCL("limits { http_max_conns_per_client = 20 }")}
			if tc.https {
				opts = append(opts, consultest.WithHTTPS())
			}
			agent := consultest.Start(t, opts...)
			const services = 200
			for i := range services {
				for j := range 2 {
					id := fmt.Sprintf("%s-%d", svcName(i), j)
					agent.RegisterService(t, consultest.Service{
						Node: fmt.Sprintf("node%d", (i+j)%10), Address: fmt.Sprintf("10.0.0.%d", (i+j)%10),
						ID: id, Name: svcName(i), Port: 10000 + 2*i + j,
						Checks: []consultest.Check{{CheckID: "chk-" + id, ServiceID: id}},
					})
				}
			}
			var errs atomic.Int64
			co := consul.Options{Address: agent.Addr(), MaxConns: tc.maxConns, Logger: testLogger(t),
				Observe: func(ri consul.RequestInfo) {
					if ri.Err != nil && !errors.Is(ri.Err, context.Canceled) { // preempted long polls are cancelled
						errs.Add(1)
					}
				}}
			if tc.https {
				co.Address, co.TLS.CAFile = agent.HTTPSURL(), agent.CAFile()
			}
			c, err := consul.New(co)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			w := watch.New(t.Context(), c, watch.Options{Wait: 30 * time.Second, Logger: testLogger(t)})
			defer w.Close()
			for i := range services {
				spec, _ := watch.ParseService(svcName(i))
				if err := w.Watch(spec); err != nil {
					t.Fatal(err)
				}
			}
			last := map[string][]*watch.HealthService{}
			for len(last) < services {
				u := next(t, w, 60*time.Second)
				last[u.Key] = u.Value.([]*watch.HealthService)
			}
			for i := range services {
				key := fmt.Sprintf("health.service(%s)", svcName(i))
				if got := ports(last[key]); got != fmt.Sprint([]int{10000 + 2*i, 10000 + 2*i + 1}) &&
					got != fmt.Sprint([]int{10000 + 2*i + 1, 10000 + 2*i}) {
					t.Fatalf("%s: ports %s", key, got)
				}
			}
			// Flip one instance of a few services once the start-up work
			// (detector baselines, the probes they cause, 429 back-offs) is
			// over; each change must arrive within a second.
			waitIdle(t, c)
			for _, i := range []int{3, 111, 199} {
				id := fmt.Sprintf("%s-0", svcName(i))
				key := fmt.Sprintf("health.service(%s)", svcName(i))
				began := time.Now()
				agent.SetCheck(t, fmt.Sprintf("node%d", i%10), "chk-"+id, id, "critical")
				for {
					u := next(t, w, time.Until(began.Add(time.Second)))
					if u.Key == key && len(u.Value.([]*watch.HealthService)) == 1 {
						break
					}
				}
				t.Logf("%s: health change arrived in %s", key, time.Since(began).Round(100*time.Microsecond))
			}
			if peak := c.PeakConns(); tc.wantConns > 0 && peak > tc.wantConns {
				t.Errorf("peak connections %d, want at most %d", peak, tc.wantConns)
			}
			if st := c.Stats(); tc.wantConns == 0 && st.LongSlots+st.PlainSlots >= consul.DefaultMaxConns-4 {
				t.Errorf("budget did not shrink on 429s: %+v", st)
			}
			if n := errs.Load(); n > 0 && !tc.absorbed {
				t.Errorf("%d requests failed at the transport", n)
			}
			t.Logf("peak %d connections for %d queries", c.PeakConns(), services)
		})
	}
}

// waitIdle waits until c has no plain read in flight and has started no
// probe or re-read for a quarter of a second.
func waitIdle(t *testing.T, c *consul.Client) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last consul.Stats
	quiet := 0
	for quiet < 5 {
		if time.Now().After(deadline) {
			t.Fatalf("client still busy after 30s: %+v", c.Stats())
		}
		time.Sleep(50 * time.Millisecond) // polling interval of the condition
		st := c.Stats()
		if st.PlainReads == 0 && st.Probes == last.Probes && st.Rereads == last.Rereads {
			quiet++
		} else {
			quiet = 0
		}
		last = st
	}
}

// next returns the next update, failing on an error update or a timeout.
func next(t *testing.T, w *watch.Watcher, within time.Duration) watch.Update {
	t.Helper()
	select {
	case u := <-w.Updates():
		if u.Err != nil {
			t.Fatalf("%s: error surfaced: %v", u.Key, u.Err)
		}
		return u
	case <-time.After(within):
		t.Fatalf("no update within %s", within)
	}
	return watch.Update{}
}

func ports(hs []*watch.HealthService) string {
	var out []int
	for _, h := range hs {
		out = append(out, h.Port)
	}
	return fmt.Sprint(out)
}

func svcName(i int) string { return fmt.Sprintf("svc%03d", i) }

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() && os.Getenv("CTPL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
