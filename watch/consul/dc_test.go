package consul_test

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestFiltersRealConsul passes filter expressions, quotes and != included,
// to health, catalog service and node reads of a real agent, read as from a
// server and through the agent's streamed views.
func TestFiltersRealConsul(t *testing.T) {
	a := consultest.Start(t)
	a.RegisterNode(t, consultest.Node{Name: "n1", Address: "10.0.0.1", Meta: map[string]string{"rack": "r1"}})
	a.RegisterNode(t, consultest.Node{Name: "n2", Address: "10.0.0.2", Meta: map[string]string{"rack": "r 2"}})
	for i, v := range []string{"1", "2", "2"} {
		a.RegisterService(t, consultest.Service{Node: []string{"n1", "n2", "n2"}[i], ID: fmt.Sprint("web", i), Name: "web",
			Port: 8000 + i, Meta: map[string]string{"version": v}, Tags: []string{"http"}})
	}
	a.RegisterService(t, consultest.Service{Node: "n1", ID: "db", Name: "db", Port: 5432})
	for _, viaAgent := range []bool{false, true} {
		t.Run(fmt.Sprintf("view=%v", viaAgent), func(t *testing.T) {
			opts := consul.Options{Address: a.Addr()}
			if viaAgent {
				opts.Agent = &consul.Agent{Known: true, Streaming: true}
			}
			c, err := consul.New(opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			tests := []struct {
				name string
				spec func() watch.Spec
				want []string
			}{
				{name: "service, != and quotes", want: []string{"web1", "web2"}, spec: func() watch.Spec {
					s, _ := watch.ParseService("web")
					s.Filter = `Service.Meta.version != "1"`
					return s
				}},
				{name: "service, node meta with a space", want: []string{"web1", "web2"}, spec: func() watch.Spec {
					s, _ := watch.ParseService("http.web")
					s.Filter = `Node.Meta.rack == "r 2"`
					return s
				}},
				{name: "services", want: []string{"web"}, spec: func() watch.Spec {
					return watch.Spec{Kind: watch.KindCatalogServices, Filter: `ServiceMeta.version == "2"`}
				}},
				{name: "nodes", want: []string{"n1"}, spec: func() watch.Spec {
					return watch.Spec{Kind: watch.KindCatalogNodes, Filter: `Meta.rack != "r 2" and Node != "` + a.Node() + `"`}
				}},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					q, err := c.Query(tc.spec())
					if err != nil {
						t.Fatal(err)
					}
					res, err := q.Fetch(t.Context(), watch.FetchOptions{Wait: time.Second, Timeout: 10 * time.Second})
					if err != nil {
						t.Fatal(err)
					}
					if got := valueNames(res.Value); !slices.Equal(got, tc.want) {
						t.Errorf("got %q, want %q", got, tc.want)
					}
				})
			}
		})
	}
}

// preparedQuery returns the query of `query name` on c.
func preparedQuery(t *testing.T, c *consul.Client, name string) watch.Query {
	t.Helper()
	spec, err := watch.ParsePreparedQuery(name)
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.Query(spec)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// fetchOnce runs one request of spec's query on c.
func fetchOnce(t *testing.T, c *consul.Client, spec watch.Spec) (watch.Result, error) {
	t.Helper()
	q, err := c.Query(spec)
	if err != nil {
		t.Fatal(err)
	}
	return q.Fetch(t.Context(), watch.FetchOptions{Wait: time.Second, Timeout: 10 * time.Second})
}

func valueNames(v any) []string {
	var out []string
	switch v := v.(type) {
	case []*watch.HealthService:
		for _, h := range v {
			out = append(out, h.ID)
		}
	case []*watch.CatalogService:
		for _, s := range v {
			out = append(out, s.Name)
		}
	case []*watch.Node:
		for _, n := range v {
			out = append(out, n.Node)
		}
	case *watch.PreparedQuery:
		for _, h := range v.Nodes {
			out = append(out, h.ID)
		}
	}
	return out
}

// TestPreparedQueryRealConsul executes a prepared query by name and by ID:
// the instances come sorted with the datacenter that answered, a later
// execution waits for the poll interval, and an unchanged answer is the
// same value.
func TestPreparedQueryRealConsul(t *testing.T) {
	a := consultest.Start(t)
	for i := range 3 {
		a.RegisterService(t, consultest.Service{Node: fmt.Sprint("n", 2-i), Address: fmt.Sprint("10.0.0.", i+1),
			ID: fmt.Sprint("web", i), Name: "web", Port: 8000 + i})
	}
	id := a.CreatePreparedQuery(t, consultest.PreparedQuery{Name: "web-q", Service: "web"})
	const interval = 300 * time.Millisecond
	c, err := consul.New(consul.Options{Address: a.Addr(), PreparedQueryInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t.Run("a template query", func(t *testing.T) {
		a.RegisterService(t, consultest.Service{Node: "n0", ID: "geo-web-1", Name: "geo-web", Port: 7000})
		a.CreatePreparedQuery(t, consultest.PreparedQuery{Name: "geo-", Service: "${name.full}", Template: true})
		spec, _ := watch.ParsePreparedQuery("geo-web")
		res, err := fetchOnce(t, c, spec)
		if err != nil {
			t.Fatal(err)
		}
		if pq := res.Value.(*watch.PreparedQuery); pq.Service != "geo-web" || !slices.Equal(valueNames(pq), []string{"geo-web-1"}) {
			t.Errorf("answer %+v: want service geo-web (${name.full}) with geo-web-1", pq)
		}
	})
	t.Run("a query that does not exist is refused", func(t *testing.T) {
		spec, _ := watch.ParsePreparedQuery("nope")
		_, err := fetchOnce(t, c, spec)
		if !errors.Is(err, watch.ErrRefused) || !strings.Contains(err.Error(), `no prepared query "nope"`) {
			t.Errorf("error %v: want it refused, naming the query", err)
		}
	})
	for _, name := range []string{"web-q", id} {
		t.Run(name, func(t *testing.T) {
			q := preparedQuery(t, c, name)
			fo := watch.FetchOptions{Wait: time.Second, Timeout: 10 * time.Second}
			first, err := q.Fetch(t.Context(), fo)
			if err != nil {
				t.Fatal(err)
			}
			pq := first.Value.(*watch.PreparedQuery)
			if got := valueNames(pq); !slices.Equal(got, []string{"web2", "web1", "web0"}) || pq.Datacenter != "dc1" || pq.Service != "web" {
				t.Fatalf("answer %+v (instances %q), want web2 web1 web0 (sorted by node) from dc1", pq, got)
			}
			fo.Index = first.Index
			began := time.Now()
			second, err := q.Fetch(t.Context(), fo)
			if err != nil {
				t.Fatal(err)
			}
			if took := time.Since(began); took < interval*4/5 || took > interval+time.Second {
				t.Errorf("the next execution came after %s, want about %s", took, interval)
			}
			if !reflect.DeepEqual(second.Value, first.Value) {
				t.Errorf("an unchanged answer differs: %+v, then %+v", first.Value, second.Value)
			}
			if second.Index <= first.Index {
				t.Errorf("index %d after %d: the watcher would take it for no change", second.Index, first.Index)
			}
		})
	}
}

// TestPreparedQueryNearKeepsItsOrder: Consul shuffles a prepared query's
// instances and, with ?near=, sorts them by round-trip time, so instances
// whose nodes have no network coordinates (every node registered through
// the catalog) come back in a new order at each execution. The same
// instances in another order are not a change: an answer keeps the order
// of the last one while its instances are the same.
func TestPreparedQueryNearKeepsItsOrder(t *testing.T) {
	a := consultest.Start(t)
	for i := range 4 {
		a.RegisterService(t, consultest.Service{Node: fmt.Sprint("n", i), Address: fmt.Sprint("10.0.1.", i+1),
			ID: fmt.Sprint("web", i), Name: "web", Port: 8000 + i})
	}
	a.CreatePreparedQuery(t, consultest.PreparedQuery{Name: "web-q", Service: "web"})
	c, err := consul.New(consul.Options{Address: a.Addr(), PreparedQueryInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	q := preparedQuery(t, c, "web-q~_agent")
	fo := watch.FetchOptions{Wait: time.Second, Timeout: 10 * time.Second}
	var orders [][]string
	for range 10 {
		res, err := q.Fetch(t.Context(), fo)
		if err != nil {
			t.Fatal(err)
		}
		fo.Index = res.Index
		orders = append(orders, valueNames(res.Value))
	}
	if got := slices.Sorted(slices.Values(orders[0])); !slices.Equal(got, []string{"web0", "web1", "web2", "web3"}) {
		t.Fatalf("instances %q, want web0 to web3", orders[0])
	}
	for i, o := range orders[1:] {
		if !slices.Equal(o, orders[0]) {
			t.Fatalf("execution %d answered %q after %q: the same instances reordered count as a change", i+2, o, orders[0])
		}
	}
	a.RegisterService(t, consultest.Service{Node: "n0", ID: "web4", Name: "web", Port: 8004})
	res, err := q.Fetch(t.Context(), fo)
	if err != nil {
		t.Fatal(err)
	}
	if got := slices.Sorted(slices.Values(valueNames(res.Value))); len(got) != 5 {
		t.Errorf("after a fifth instance registered: %q", got)
	}
}
