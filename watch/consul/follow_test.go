package consul_test

import (
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestRegistrationsAttributedByNode follows 60 services on 3 nodes with a
// budget too small to long-poll them: every registration under an
// existing name (added, modified, removed, and a node removed with its
// instances) must reach its query, attributed by a node sweep without
// probing every follower.
func TestRegistrationsAttributedByNode(t *testing.T) {
	agent := consultest.Start(t)
	const services, nodes = 60, 3
	for i := range services {
		for j := range 2 {
			id := fmt.Sprintf("%s-%d", svcName(i), j)
			node := fmt.Sprintf("node%d", (i+j)%nodes)
			agent.RegisterService(t, consultest.Service{Node: node, Address: "10.0.0.1", ID: id,
				Name: svcName(i), Port: 10000 + 2*i + j})
		}
	}
	// The smallest budget: one long poll, the rest follow.
	c, err := consul.New(consul.Options{Address: agent.Addr(), MaxConns: 6, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := watch.New(t.Context(), c, watch.Options{Wait: 30 * time.Second, Logger: testLogger(t)})
	defer w.Close()
	// A KV query takes the only long-poll slot first and holds it for the
	// whole test (nothing writes the key): every health query follows.
	agent.PutKV(t, "hold", "x")
	kv, _ := watch.ParseKV(watch.KindKVGet, "hold")
	if err := w.Watch(kv); err != nil {
		t.Fatal(err)
	}
	next(t, w, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); c.Stats().LongPolls == 0; {
		if time.Now().After(deadline) {
			t.Fatal("the KV query never took the long-poll slot")
		}
		runtime.Gosched()
	}
	for i := range services {
		spec, _ := watch.ParseService(svcName(i))
		if err := w.Watch(spec); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for len(seen) < services {
		seen[next(t, w, 60*time.Second).Key] = true
	}
	// Each query's blocking request follows once its first answer is sent:
	// the last may not have been issued yet when its answer arrives.
	var before consul.Stats
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		if before = c.Stats(); before.Followers >= services {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not every query follows the detectors: %+v", before)
		}
	}
	key := func(i int) string { return fmt.Sprintf("health.service(%s)", svcName(i)) }
	steps := []struct {
		name  string
		do    func()
		key   string
		ports []int
	}{
		{name: "instance added", key: key(7), ports: []int{10014, 10015, 20000},
			do: func() {
				agent.RegisterService(t, consultest.Service{Node: "node2", ID: "extra", Name: svcName(7), Port: 20000})
			}},
		{name: "instance modified", key: key(7), ports: []int{10014, 10015, 20001},
			do: func() {
				agent.RegisterService(t, consultest.Service{Node: "node2", ID: "extra", Name: svcName(7), Port: 20001})
			}},
		{name: "instance removed", key: key(7), ports: []int{10014, 10015},
			do: func() { agent.DeregisterService(t, "node2", "extra") }},
		{name: "instance added on a new node", key: key(40), ports: []int{10080, 10081, 20002},
			do: func() {
				agent.RegisterService(t, consultest.Service{Node: "node9", Address: "10.0.0.9", ID: "extra",
					Name: svcName(40), Port: 20002})
			}},
		{name: "node removed", key: key(40), ports: []int{10080, 10081},
			do: func() { agent.DeregisterNode(t, "node9") }},
	}
	for _, st := range steps {
		st.do()
		start := time.Now()
		if last, err := waitPorts(w, st.key, st.ports, 10*time.Second); err != nil {
			t.Fatalf("%s: %v (last answer of %s: ports %v); stats %+v", st.name, err, st.key, last, c.Stats())
		}
		t.Logf("%s: reached its query in %s", st.name, time.Since(start).Round(time.Millisecond))
	}
	after := c.Stats()
	if after.Sweeps != before.Sweeps {
		t.Errorf("registrations swept every follower %d times", after.Sweeps-before.Sweeps)
	}
	if after.NodeSweeps == before.NodeSweeps {
		t.Errorf("no node sweep attributed the registrations: %+v", after)
	}
	t.Logf("stats before %+v, after %+v", before, after)
}

// waitPorts waits for an answer of key listing ports; an error of any query
// ends the wait. It returns the last answer of key seen.
func waitPorts(w *watch.Watcher, key string, ports []int, within time.Duration) (last []int, err error) {
	timeout := time.After(within)
	for {
		select {
		case u := <-w.Updates():
			switch {
			case u.Err != nil:
				return last, fmt.Errorf("%s: error surfaced: %w", u.Key, u.Err)
			case u.Key != key:
				continue
			}
			if last = portList(u.Value.([]*watch.HealthService)); slices.Equal(last, ports) {
				return last, nil
			}
		case <-timeout:
			return last, fmt.Errorf("%s did not list ports %v within %s", key, ports, within)
		}
	}
}

func portList(hs []*watch.HealthService) []int {
	var out []int
	for _, h := range hs {
		out = append(out, h.Port)
	}
	slices.Sort(out)
	return out
}
