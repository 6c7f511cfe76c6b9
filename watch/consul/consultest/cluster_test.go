package consultest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

const appRules = `service_prefix "app-" { policy = "read" } node_prefix "" { policy = "read" }`

// filteredHeader marks a list answer that ACLs trimmed.
const filteredHeader = "X-Consul-Results-Filtered-By-ACLs"

func TestClusterACLFiltering(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, Servers(3), Clients(1))
	client := c.Clients()[0]
	if client.Token() != c.ManagementToken() || c.ManagementToken() == "" {
		t.Fatalf("client token %q, management token %q: want the same, not empty", client.Token(), c.ManagementToken())
	}
	client.RegisterService(t, Service{Node: "node-a", Address: "10.0.0.1", Name: "app-1", Port: 80})
	client.RegisterService(t, Service{Node: "node-a", Name: "secret-1", Port: 81})
	token := c.CreateToken(t, appRules)

	got, header := catalogServices(t, client, token, http.StatusOK)
	if !slices.Contains(got, "app-1") || slices.Contains(got, "secret-1") {
		t.Errorf("services seen with the app- token = %v, want app-1 and not secret-1", got)
	}
	if header.Get(filteredHeader) != "true" {
		t.Errorf("%s = %q with the app- token, want true", filteredHeader, header.Get(filteredHeader))
	}

	// Consul 1.14 answers a request without a token (the anonymous token,
	// no rights under default deny) with 200 and an empty list, and masks
	// the filter header, so as not to tell anonymous callers that
	// anything was hidden.
	got, header = catalogServices(t, client, "", http.StatusOK)
	if len(got) != 0 || header.Get(filteredHeader) != "" {
		t.Errorf("services without a token = %v, %s %q; want none and no header", got, filteredHeader, header.Get(filteredHeader))
	}

	got, header = catalogServices(t, client, client.Token(), http.StatusOK)
	if !slices.Contains(got, "app-1") || !slices.Contains(got, "secret-1") || header.Get(filteredHeader) != "" {
		t.Errorf("services with the management token = %v, %s %q; want all, unfiltered", got, filteredHeader, header.Get(filteredHeader))
	}

	c.DeleteToken(t, token)
	catalogServices(t, client, token, http.StatusForbidden)
}

// catalogServices lists the services through a with token, checks the
// answer's status and returns the names (sorted) and the answer's header.
func catalogServices(t *testing.T, a *Agent, token string, status int) ([]string, http.Header) {
	t.Helper()
	ans, err := a.do(t.Context(), token, http.MethodGet, "/v1/catalog/services", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ans.status != status {
		t.Fatalf("GET /v1/catalog/services: %d %s, want %d", ans.status, ans.body, status)
	}
	if status != http.StatusOK {
		return nil, ans.header
	}
	var services map[string][]string
	if err := json.Unmarshal(ans.body, &services); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	slices.Sort(names)
	return names, ans.header
}

func TestClusterLeaderFailover(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, Servers(3), Clients(1))
	client := c.Clients()[0]
	old := c.Leader(t)
	old.Kill()
	old.Kill() // idempotent
	began := time.Now()
	leader := c.WaitLeader(t)
	if leader == old {
		t.Fatalf("WaitLeader returned the killed leader %s", old.Node())
	}
	t.Logf("new leader %s after %s", leader.Node(), time.Since(began).Round(time.Millisecond))
	client.PutKV(t, "after-failover", "1")
	if got := readKV(t, client, "after-failover"); got != "1" {
		t.Fatalf("after-failover = %q, want 1", got)
	}

	old.StartAgain(t)
	var servers []string
	eventually(t, func() error {
		servers = raftServers(t, leader)
		if len(servers) != 3 || !slices.Contains(servers, old.Node()) {
			return fmt.Errorf("raft servers %v, want 3 with %s", servers, old.Node())
		}
		return nil
	})
	c.WaitLeader(t) // the restarted server agrees too
	if got := readKV(t, old, "after-failover"); got != "1" {
		t.Fatalf("after-failover read through the restarted server = %q, want 1", got)
	}
}

// raftServers returns the node names in the Raft configuration.
func raftServers(t *testing.T, a *Agent) []string {
	t.Helper()
	var cfg struct {
		Servers []struct{ Node string }
	}
	a.GetJSON(t, "/v1/operator/raft/configuration", &cfg)
	var nodes []string
	for _, s := range cfg.Servers {
		nodes = append(nodes, s.Node)
	}
	return nodes
}

func TestClusterStreamingMetricsHTTPS(t *testing.T) {
	t.Parallel()
	c := StartCluster(t, ClusterHTTPS(), ClusterHCL(`limits { http_max_conns_per_client = 20 }`))
	server, client := c.Servers()[0], c.Clients()[0]

	t.Run("streaming", func(t *testing.T) {
		client.RegisterService(t, Service{Node: "node-x", Address: "10.0.0.1", ID: "x-1", Name: "x"})
		idx := client.Index(t, "/v1/health/service/x")
		type result struct {
			ans *answer
			err error
		}
		done := make(chan result, 1)
		go func() {
			path := fmt.Sprintf("/v1/health/service/x?index=%d&wait=20s", idx)
			ans, err := client.do(t.Context(), client.Token(), http.MethodGet, path, nil)
			done <- result{ans, err}
		}()
		client.RegisterService(t, Service{Node: "node-x", ID: "x-2", Name: "x"})
		r := <-done
		if r.err != nil {
			t.Fatal(r.err)
		}
		var entries []healthEntry
		if err := json.Unmarshal(r.ans.body, &entries); err != nil || len(entries) != 2 {
			t.Fatalf("blocking query answered %d %s (%v), want 2 instances", r.ans.status, r.ans.body, err)
		}
		if got := r.ans.header.Get("X-Consul-Query-Backend"); got != "streaming" {
			t.Fatalf("X-Consul-Query-Backend = %q, want streaming", got)
		}
	})

	t.Run("metrics", func(t *testing.T) {
		// One blocking query through the client agent: an RPC that the
		// server counts as a request and as a blocking query.
		client.PutKV(t, "metrics-probe", "1")
		idx := client.Index(t, "/v1/kv/metrics-probe")
		client.GetJSON(t, fmt.Sprintf("/v1/kv/metrics-probe?index=%d&wait=50ms", idx), &json.RawMessage{})
		m := server.Metrics(t)
		for _, name := range []string{"consul_rpc_request", "consul_rpc_query", "consul_raft_apply", "consul_fsm_kvs_count"} {
			if m[name] <= 0 {
				t.Errorf("server metric %s = %v, want more than 0", name, m[name])
			}
		}
		if _, ok := m["consul_rpc_queries_blocking"]; !ok {
			t.Error("server has no gauge consul_rpc_queries_blocking")
		}
		if got := client.Metrics(t)["consul_client_rpc"]; got <= 0 {
			t.Errorf("client metric consul_client_rpc = %v, want more than 0", got)
		}
	})

	t.Run("https and hcl", func(t *testing.T) {
		for _, a := range c.agents() {
			getOverHTTPS(t, a)
			var self struct {
				DebugConfig struct{ HTTPMaxConnsPerClient int }
			}
			a.GetJSON(t, "/v1/agent/self", &self)
			if got := self.DebugConfig.HTTPMaxConnsPerClient; got != 20 {
				t.Errorf("agent %s: http_max_conns_per_client = %d, want 20 from ClusterHCL", a.Node(), got)
			}
		}
	})
}

// getOverHTTPS reads /v1/status/leader from a's HTTPS listener, trusting
// only a's CA file.
func getOverHTTPS(t *testing.T, a *Agent) {
	t.Helper()
	pem, err := os.ReadFile(a.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", a.CAFile())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(a.HTTPSURL() + "/v1/status/leader")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("agent %s: GET over HTTPS: %s", a.Node(), resp.Status)
	}
}

func TestClusterWAN(t *testing.T) {
	t.Parallel()
	dc1 := StartCluster(t)
	dc2 := StartCluster(t, Datacenter("dc2"), Clients(0))
	if dc2.Datacenter() != "dc2" || len(dc2.Clients()) != 0 || len(dc1.Servers()) != 1 {
		t.Fatalf("clusters %s with %d servers and %s with %d clients", dc1.Datacenter(), len(dc1.Servers()),
			dc2.Datacenter(), len(dc2.Clients()))
	}
	dc1.JoinWAN(t, dc2)
	client := dc1.Clients()[0]
	var dcs []string
	client.GetJSON(t, "/v1/catalog/datacenters", &dcs)
	slices.Sort(dcs)
	if !slices.Equal(dcs, []string{"dc1", "dc2"}) {
		t.Fatalf("datacenters seen from dc1's client = %v, want dc1 and dc2", dcs)
	}

	dc2.Servers()[0].RegisterService(t, Service{Node: "node-b", Address: "10.0.0.2", Name: "web", Port: 80})
	var instances []struct{ Node, Datacenter string }
	client.GetJSON(t, "/v1/catalog/service/web?dc=dc2", &instances)
	if len(instances) != 1 || instances[0].Node != "node-b" || instances[0].Datacenter != "dc2" {
		t.Fatalf("web in dc2 seen from dc1's client = %+v, want node-b in dc2", instances)
	}
	client.GetJSON(t, "/v1/catalog/service/web", &instances)
	if len(instances) != 0 {
		t.Fatalf("web in dc1 = %+v, want none", instances)
	}

	// A token made in dc1 exists only there: dc2's servers refuse it.
	token := dc1.CreateToken(t, appRules)
	ans, err := client.do(t.Context(), token, http.MethodGet, "/v1/catalog/services?dc=dc2", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ans.status != http.StatusForbidden || !strings.Contains(string(ans.body), "ACL not found") {
		t.Fatalf("dc1 token in dc2: %d %s, want 403 ACL not found", ans.status, ans.body)
	}
}

// eventually calls cond until it returns nil, failing the test with its
// last error after 30 s.
func eventually(t *testing.T, cond func() error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not done after %s: %v", readyTimeout, errors.Join(err, ctx.Err()))
		case <-tick.C:
		}
	}
}
