package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// The registry the differential test renders against. Everything here is
// deterministic, so outputs are stable across runs; see
// testdata/compat/README.md for what each part exercises.

// compatEnv is the environment both tools render with.
var compatEnv = map[string]string{
	"CTPL_COMPAT_HOME":  "/srv/app",
	"CTPL_COMPAT_LIST":  "alpha,beta,gamma",
	"CTPL_COMPAT_NUM":   "42",
	"CTPL_COMPAT_EMPTY": "",
	"CTPL_COMPAT_JSON":  `{"name":"shop","ports":[80,443]}`,
}

var compatNodes = []consultest.Node{
	{Name: "node-a", Address: "10.0.1.1", Meta: map[string]string{"rack": "r1", "zone": "eu-1", "role": "lb"}},
	{Name: "node-b", Address: "10.0.1.2", Meta: map[string]string{"rack": "r2", "zone": "eu-1"}},
	{Name: "node-c", Address: "10.0.1.3", Meta: map[string]string{"rack": "r1", "zone": "eu-2", "weight": "5"}},
	{Name: "node-d", Address: "10.0.1.4", Meta: map[string]string{"zone": "eu-2"},
		// A node in maintenance: every instance on it is in maintenance.
		Checks: []consultest.Check{{CheckID: "_node_maintenance", Status: "critical", Notes: "kernel upgrade"}}},
	{Name: "node-e", Address: "10.0.1.5"}, // no metadata, no services
	{Name: "dns-1", Address: "192.168.10.1", Meta: map[string]string{"role": "dns"}},
}

func check(id, service, status string) consultest.Check {
	return consultest.Check{CheckID: id, ServiceID: service, Status: status, Name: "check " + id, Output: "output of " + id}
}

var compatServices = []consultest.Service{
	// web: unsorted and duplicated tags, metadata, every health state.
	{Node: "node-a", ID: "web-1", Name: "web", Port: 8080, Tags: []string{"v2", "http", "http", "canary"},
		Meta:   map[string]string{"version": "2", "weight": "10", "path": "/shop"},
		Checks: []consultest.Check{check("web-1-http", "web-1", "passing")}},
	{Node: "node-b", ID: "web-2", Name: "web", Port: 8081, Tags: []string{"http", "v1"},
		Meta:   map[string]string{"version": "1", "weight": "20"},
		Checks: []consultest.Check{check("web-2-http", "web-2", "passing"), check("web-2-disk", "web-2", "passing")}},
	{Node: "node-c", ID: "web-3", Name: "web", Port: 8082, Tags: []string{"v1", "http"},
		Meta:   map[string]string{"version": "1", "weight": "5"},
		Checks: []consultest.Check{check("web-3-http", "web-3", "warning")}},
	{Node: "node-c", ID: "web-4", Name: "web", Port: 8083, Tags: []string{"http", "v2"},
		Checks: []consultest.Check{check("web-4-http", "web-4", "critical"), check("web-4-disk", "web-4", "warning")}},
	{Node: "node-a", ID: "web-5", Name: "web", Port: 8084, Tags: []string{"http"},
		Checks: []consultest.Check{check("web-5-http", "web-5", "passing"),
			{CheckID: "_service_maintenance:web-5", ServiceID: "web-5", Status: "critical", Notes: "draining"}}},
	{Node: "node-d", ID: "web-6", Name: "web", Port: 8085, Tags: []string{"http", "v2"},
		Checks: []consultest.Check{check("web-6-http", "web-6", "passing")}},
	{Node: "node-b", ID: "web-0", Name: "web", Port: 8079, Tags: []string{"http", "v2", "canary"},
		Meta: map[string]string{"version": "2", "weight": "15"}},

	// api: instances with their own addresses, sorted by node then ID.
	{Node: "node-b", ID: "api-b2", Name: "api", Port: 9001, ServiceAddress: "172.16.0.12", Tags: []string{"grpc", "internal"},
		Meta: map[string]string{"proto": "grpc", "team": "core"}, Checks: []consultest.Check{check("api-b2-tcp", "api-b2", "passing")}},
	{Node: "node-b", ID: "api-b1", Name: "api", Port: 9000, ServiceAddress: "172.16.0.11", Tags: []string{"rest", "internal"},
		Meta: map[string]string{"proto": "http", "team": "core"}, Checks: []consultest.Check{check("api-b1-tcp", "api-b1", "passing")}},
	{Node: "node-a", ID: "api-a1", Name: "api", Port: 9000, ServiceAddress: "172.16.0.1", Tags: []string{"rest"},
		Meta: map[string]string{"proto": "http", "team": "edge"}, Checks: []consultest.Check{check("api-a1-tcp", "api-a1", "passing")}},

	// db: no checks at all, which counts as passing.
	{Node: "node-c", ID: "db-primary", Name: "db", Port: 5432, Tags: []string{"primary"}, Meta: map[string]string{"role": "primary"}},
	{Node: "node-b", ID: "db-replica", Name: "db", Port: 5432, Tags: []string{"replica"}, Meta: map[string]string{"role": "replica"}},

	// cache: nothing passing.
	{Node: "node-a", ID: "cache-1", Name: "cache", Port: 6379, Tags: []string{"redis"},
		Checks: []consultest.Check{check("cache-1-ping", "cache-1", "critical")}},
	{Node: "node-b", ID: "cache-2", Name: "cache", Port: 6379, Tags: []string{"redis"},
		Checks: []consultest.Check{check("cache-2-ping", "cache-2", "warning")}},

	// mail and ns for dnsmasq; admin-ui for names with dashes.
	{Node: "node-c", ID: "mail-1", Name: "mail", Port: 25, Tags: []string{"smtp", "mx-10"}},
	{Node: "node-a", ID: "mail-2", Name: "mail", Port: 25, Tags: []string{"smtp", "mx-20"}},
	{Node: "dns-1", ID: "ns", Name: "ns", Port: 53, Tags: []string{"udp", "tcp"}},
	{Node: "node-e", ID: "admin-ui", Name: "admin-ui", Port: 3000, Tags: []string{"http", "internal", "auth=sso", "Zulu", "äpfel", "10-digits", "_under"},
		Meta: map[string]string{"owner": "ops@example.com"}},
}

var compatKV = [][2]string{
	{"app/name", "shop"},
	{"app/owner", "team-shop"},
	{"app/empty", ""},
	{"app/config/port", "8080"},
	{"app/config/debug", "true"},
	{"app/config/timeout", "2.5"},
	{"app/config/workers", "-3"},
	{"app/config/replicas", "7"},
	{"app/config/json", `{"name":"shop","tags":["a","b"],"limits":{"cpu":2,"mem":"1G"}}`},
	{"app/config/yaml", "name: shop\ntags:\n  - a\n  - b\nlimits:\n  cpu: 2\n"},
	{"app/config/b64", "aGVsbG8gd29ybGQ="},
	{"app/config/csv", "a, b ,c"},
	{"app/config/empty-folder/", ""},
	{"app/config/nested/level1/level2/deep", "bottom"},
	{"app/config/nested/level1/value", "one"},
	{"app/folder-only/", ""},
	{"app/features/login", "on"},
	{"app/features/search", "off"},
	{"app/features/zz-last", "1"},
	{"upstreams/web/max_fails", "3"},
	{"upstreams/web/fail_timeout", "10s"},
	{"upstreams/api/max_fails", "5"},
	{"haproxy/global/maxconn", "4096"},
	{"haproxy/timeouts/connect", "5s"},
	{"haproxy/timeouts/client", "30s"},
	{"haproxy/timeouts/server", "30s"},
	{"dns/hosts/www", "10.0.0.10"},
	{"dns/hosts/db", "10.0.0.20"},
	{"dns/hosts/mail", "10.0.0.30"},
	{"dns/domain", "example.internal"},
	{"unicode/greeting", "grüß dich ✓"},
	{"special/chars", `a "quoted" <tag> & 'single'`},
	{"multi/line", "line one\nline two\n  indented\n"},
}

// seedCompat registers the registry of the differential test and sets its
// environment variables.
func seedCompat(t *testing.T, agent *consultest.Agent, dir string) {
	t.Helper()
	for k, v := range compatEnv {
		t.Setenv(k, v)
	}
	t.Setenv("CTPL_COMPAT_DIR", dir)
	t.Setenv(envTool, "ctpl") // consul-template runs with its own value
	writeFile(t, filepath.Join(dir, "hosts.txt"), "10.9.0.1 static-one\n10.9.0.2 static-two\n")
	for _, n := range compatNodes {
		agent.RegisterNode(t, n)
	}
	for _, s := range compatServices {
		agent.RegisterService(t, s)
	}
	for _, kv := range compatKV {
		agent.PutKV(t, kv[0], kv[1])
	}
	registerRaw(t, agent)
	// The agent's own node gets its metadata and tagged addresses from its
	// first anti-entropy sync; both tools must see the same node.
	testkit.WaitFor(t, 10*time.Second, "the agent's node is synced", func() bool {
		var n struct {
			Node struct{ TaggedAddresses map[string]string }
		}
		agent.GetJSON(t, "/v1/catalog/node/"+agent.Node(), &n)
		return len(n.Node.TaggedAddresses) > 0
	})
}

// seedHostile registers instances carrying registry strings that would
// inject configuration: ctpl drops them by default, consul-template renders
// them verbatim.
func seedHostile(t *testing.T, agent *consultest.Agent) {
	t.Helper()
	agent.RegisterNode(t, consultest.Node{Name: "node-evil", Address: "10.66.0.1"})
	for _, s := range []consultest.Service{
		{Node: "node-a", ID: "shop-1", Name: "shop", Port: 7001, Tags: []string{"http"}},
		{Node: "node-b", ID: "shop-2", Name: "shop", Port: 7002, Tags: []string{"http"}},
		{Node: "node-evil", ID: "shop-evil-tag", Name: "shop", Port: 7003,
			Tags: []string{"http;\n  server 6.6.6.6:80", "x"}},
		{Node: "node-evil", ID: "shop-evil-meta", Name: "shop", Port: 7004, Tags: []string{"http"},
			Meta: map[string]string{"weight": "1;\nserver evil 6.6.6.6:80"}},
	} {
		agent.RegisterService(t, s)
	}
}

// registerRaw registers what consultest.Service does not carry: tagged
// addresses of an instance, a check with a definition, Connect proxies and
// native services.
func registerRaw(t *testing.T, agent *consultest.Agent) {
	t.Helper()
	type addr struct {
		Address string
		Port    int
	}
	for _, reg := range []map[string]any{{
		"Node": "node-e", "SkipNodeUpdate": true,
		"Service": map[string]any{
			"ID": "gateway-1", "Service": "gateway", "Port": 8443, "Address": "10.0.1.50",
			"Tags": []string{"edge"},
			"TaggedAddresses": map[string]addr{
				"lan_ipv4": {"10.0.1.50", 8443}, "wan_ipv4": {"203.0.113.7", 443}, "virtual": {"240.0.0.1", 80},
			},
		},
		"Checks": []map[string]any{{
			"CheckID": "gateway-1-https", "Name": "gateway https", "ServiceID": "gateway-1", "Status": "passing",
			"Definition": map[string]any{
				"HTTP": "https://10.0.1.50:8443/healthz", "Method": "HEAD", "TLSSkipVerify": true,
				"Header":   map[string][]string{"X-Probe": {"ctpl"}},
				"Interval": "10s", "Timeout": "2s", "DeregisterCriticalServiceAfter": "1m30s",
			},
		}},
	}, {
		"Node": "node-a", "SkipNodeUpdate": true,
		"Service": map[string]any{
			"Kind": "connect-proxy", "ID": "web-1-sidecar-proxy", "Service": "web-sidecar-proxy", "Port": 21000,
			"Proxy": map[string]any{"DestinationServiceName": "web", "DestinationServiceID": "web-1", "LocalServicePort": 8080},
		},
	}, {
		"Node": "node-b", "SkipNodeUpdate": true,
		"Service": map[string]any{
			"Kind": "connect-proxy", "ID": "web-2-sidecar-proxy", "Service": "web-sidecar-proxy", "Port": 21001,
			"Proxy": map[string]any{"DestinationServiceName": "web", "DestinationServiceID": "web-2", "LocalServicePort": 8081},
		},
	}, {
		"Node": "node-c", "SkipNodeUpdate": true,
		"Service": map[string]any{
			"ID": "billing-1", "Service": "billing", "Port": 7000, "Tags": []string{"native"},
			"Connect": map[string]any{"Native": true},
		},
	}} {
		body, err := json.Marshal(reg)
		if err != nil {
			t.Fatal(err)
		}
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, agent.URL()+"/v1/catalog/register", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if tok := agent.Token(); tok != "" { // an agent of a cluster with ACLs on
			req.Header.Set("X-Consul-Token", tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("register %s: %v", body, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("register %s: %s", body, resp.Status)
		}
	}
}
