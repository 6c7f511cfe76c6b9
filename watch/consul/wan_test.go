package consul_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestRemoteDatacenterFiltersAndQueries reads another datacenter through a
// client agent of a WAN-joined pair with ACLs on: filter expressions with
// @dc2 answer what Consul's HTTP API answers; `query "name@dc2"` executes
// the query defined in dc2; a query failing over to dc2 with ~near keeps
// one order of dc2's instances (Consul shuffles them: their nodes have no
// coordinates the agent's node could be compared with).
func TestRemoteDatacenterFiltersAndQueries(t *testing.T) {
	dc1 := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	dc2 := consultest.StartCluster(t, consultest.Datacenter("dc2"), consultest.Servers(1), consultest.Clients(0))
	dc1.JoinWAN(t, dc2)
	agent, server2 := dc1.Clients()[0], dc2.Servers()[0]
	for i := range 4 {
		id := fmt.Sprint("web", i)
		server2.RegisterService(t, consultest.Service{Node: fmt.Sprint("m", i), Address: fmt.Sprint("10.2.0.", i+1), ID: id,
			Name: "web", Port: 8000 + i, Meta: map[string]string{"version": fmt.Sprint(i % 2)},
			Checks: []consultest.Check{{CheckID: "c-" + id, ServiceID: id}}})
	}
	server2.CreatePreparedQuery(t, consultest.PreparedQuery{Name: "web-dc2", Service: "web"})
	agent.CreatePreparedQuery(t, consultest.PreparedQuery{Name: "web-fo", Service: "web", Failover: []string{"dc2"}})
	token := dc1.CreateTokenEverywhere(t, `service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }`, dc2)
	found, err := consul.Discover(t.Context(), consul.Options{Address: agent.Addr(), Token: dc1.ManagementToken()})
	if err != nil {
		t.Fatal(err)
	}
	c, err := consul.New(consul.Options{Address: agent.Addr(), Token: token, Agent: &found, PreparedQueryInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	for _, tc := range []struct {
		fn   string
		args []string
		want []string
	}{
		{fn: "service", args: []string{"web@dc2", `filter=Service.Meta.version == "1"`}, want: []string{"web1", "web3"}},
		{fn: "services", args: []string{"@dc2", `filter=ServiceMeta.version == "0"`}, want: []string{"web"}},
		{fn: "nodes", args: []string{"@dc2", `filter=Address matches "^10\\.2\\.0\\.[12]$"`}, want: []string{"m0", "m1"}},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			spec := filterSpec(t, tc.fn, tc.args)
			res, err := fetchOnce(t, c, spec)
			if err != nil {
				t.Fatal(err)
			}
			got, consulSays := valueNames(res.Value), askConsul(t, agent.URL(), token, spec, tc.args)
			if slices.Sort(got); !slices.Equal(got, consulSays) || !slices.Equal(got, tc.want) {
				t.Errorf("%s: ctpl %q, Consul %q, want %q", spec, got, consulSays, tc.want)
			}
		})
	}
	t.Run("query name@dc2", func(t *testing.T) {
		spec, _ := watch.ParsePreparedQuery("web-dc2@dc2")
		res, err := fetchOnce(t, c, spec)
		if err != nil {
			t.Fatal(err)
		}
		if pq := res.Value.(*watch.PreparedQuery); pq.Datacenter != "dc2" || pq.Failovers != 0 || len(pq.Nodes) != 4 {
			t.Errorf("answer %+v: want dc2's four instances, from dc2 without failover", pq)
		}
	})
	t.Run("failover ~near", func(t *testing.T) {
		q := preparedQuery(t, c, "web-fo~_agent")
		fo := watch.FetchOptions{Wait: time.Second, Timeout: 10 * time.Second}
		var first []string
		for i := range 8 {
			res, err := q.Fetch(t.Context(), fo)
			if err != nil {
				t.Fatal(err)
			}
			fo.Index = res.Index
			pq := res.Value.(*watch.PreparedQuery)
			if pq.Datacenter != "dc2" || pq.Failovers != 1 {
				t.Fatalf("answer %+v: want dc2's instances after one failover", pq)
			}
			if i == 0 {
				first = valueNames(pq)
			} else if got := valueNames(pq); !slices.Equal(got, first) {
				t.Fatalf("execution %d answered %q after %q: the same instances reordered count as a change", i+1, got, first)
			}
		}
		if !slices.Equal(slices.Sorted(slices.Values(first)), []string{"web0", "web1", "web2", "web3"}) {
			t.Errorf("instances %q, want web0 to web3", first)
		}
	})
}
