package consul_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestFilterFormsMatchConsul reads filter expressions as templates write
// them ("filter=…" arguments beside tags, @dc, ~near and status filters)
// through a client agent of a cluster with ACLs on (default deny, a token
// that may not read the secret service), and compares every answer with
// what Consul's HTTP API answers to the same request with the expression
// as written, through the same agent and token.
func TestFilterFormsMatchConsul(t *testing.T) {
	cl := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	agent := cl.Clients()[0]
	agent.RegisterNode(t, consultest.Node{Name: "n1", Address: "10.0.0.1", Meta: map[string]string{"rack": "r1"}})
	agent.RegisterNode(t, consultest.Node{Name: "n2", Address: "10.0.0.2", Meta: map[string]string{"rack": "r 2"}})
	for i, s := range []struct {
		node, version, status string
		tags                  []string
	}{
		{"n1", "1", "passing", []string{"http"}},
		{"n2", "2", "warning", []string{"http", "v2"}},
		{"n2", "2", "critical", nil},
		{"n1", "3", "passing", []string{"v2"}},
	} {
		id := fmt.Sprint("web", i)
		agent.RegisterService(t, consultest.Service{Node: s.node, ID: id, Name: "web", Port: 8000 + i, Tags: s.tags,
			Meta: map[string]string{"version": s.version}, Checks: []consultest.Check{{CheckID: "c-" + id, ServiceID: id, Status: s.status}}})
	}
	agent.RegisterService(t, consultest.Service{Node: "n1", ID: "secret", Name: "secret", Port: 9000,
		Meta: map[string]string{"version": "2"}, Tags: []string{"http"}})
	token := cl.CreateToken(t, `service_prefix "web" { policy = "read" }
node_prefix "" { policy = "read" }`)
	found, err := consul.Discover(t.Context(), consul.Options{Address: agent.Addr(), Token: cl.ManagementToken()})
	if err != nil || !strings.HasPrefix(found.String(), "client agent") {
		t.Fatalf("agent %s, %v: want a client agent", found, err)
	}
	opts := consul.Options{Address: agent.Addr(), Token: token, Agent: &found}
	c, err := consul.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	tests := []struct {
		name string
		fn   string   // service, services or nodes
		args []string // as the template passes them
		want []string // what Consul answers, written out so that an empty answer on both sides fails
	}{
		{name: "!= and quotes", fn: "service", args: []string{"web", `filter=Service.Meta.version != "1"`}, want: []string{"web3"}},
		{name: "in, over check statuses", fn: "service", args: []string{"web|any", `filter="critical" in Checks.Status`}, want: []string{"web2"}},
		{name: "contains, beside a status argument", fn: "service",
			args: []string{"web", "passing,warning", `filter=Checks.Status contains "warning" or Service.Port == 8000`}, want: []string{"web0", "web1"}},
		{name: "is empty", fn: "service", args: []string{"web|any", "filter=Service.Tags is empty"}, want: []string{"web2"}},
		{name: "not, and, is not empty", fn: "service",
			args: []string{"web|any", "filter=Service.Tags is not empty and not (Service.Port == 8000)"}, want: []string{"web1", "web3"}},
		{name: "matches, with a tag", fn: "service", args: []string{"v2.web|any", `filter=Service.ID matches "^web[0-2]$"`}, want: []string{"web1"}},
		{name: "raw string, node meta with a space, @dc", fn: "service",
			args: []string{"web@dc1|any", "filter=Node.Meta.rack == `r 2`"}, want: []string{"web1", "web2"}},
		{name: "index selector, ~near", fn: "service",
			args: []string{"web~_agent|any", `filter=Service.Meta["version"] == "2" or Service.Port == 8000`}, want: []string{"web0", "web1", "web2"}},
		{name: "newlines and tabs", fn: "service",
			args: []string{"web|any", "filter=\n\tService.Meta.version  ==\t\"2\"\n  and \"v2\" in Service.Tags\n"}, want: []string{"web1"}},
		{name: "services unfiltered", fn: "services", args: nil, want: []string{"web"}},
		{name: "services, ACLs hide a match", fn: "services", args: []string{`filter=ServiceMeta.version == "2"`}, want: []string{"web"}},
		{name: "services @dc", fn: "services", args: []string{"@dc1", `filter=ServiceTags contains "v2"`}, want: []string{"web"}},
		{name: "services matching none", fn: "services", args: []string{`filter=ServiceName == "secret"`}, want: nil},
		{name: "nodes", fn: "nodes", args: []string{`filter=Meta.rack == "r 2"`}, want: []string{"n2"}},
		{name: "nodes ~near", fn: "nodes", args: []string{"~_agent", `filter=Node matches "^n[12]$" and Meta.rack != "r1"`}, want: []string{"n2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := filterSpec(t, tc.fn, tc.args)
			res, err := fetchOnce(t, c, spec)
			if err != nil {
				t.Fatal(err)
			}
			got := valueNames(res.Value)
			if spec.Near == "" {
				slices.Sort(got)
			}
			consulSays := askConsul(t, agent.URL(), token, spec, tc.args)
			if !slices.Equal(got, consulSays) || !slices.Equal(got, tc.want) {
				t.Errorf("%s: ctpl %q, Consul %q, want %q", spec, got, consulSays, tc.want)
			}
		})
	}
	t.Run("an expression Consul cannot parse is refused", func(t *testing.T) {
		_, err := fetchOnce(t, c, filterSpec(t, "service", []string{"web", `filter=Service.Meta.version == "2`}))
		if !errors.Is(err, watch.ErrRefused) || !strings.Contains(err.Error(), `filter "Service.Meta.version == \"2"`) ||
			!strings.Contains(err.Error(), "Unterminated string literal") {
			t.Errorf("error %v: want it refused, naming the filter and Consul's reason", err)
		}
	})
	// The same cluster serves a prepared query executed with the same
	// token, which has no query rule: executing needs none.
	t.Run("prepared query", func(t *testing.T) {
		agent.CreatePreparedQuery(t, consultest.PreparedQuery{Name: "web-q", Service: "web", Tags: []string{"v2"}})
		spec, _ := watch.ParsePreparedQuery("web-q")
		res, err := fetchOnce(t, c, spec)
		if err != nil {
			t.Fatal(err)
		}
		pq := res.Value.(*watch.PreparedQuery)
		// A prepared query keeps passing and warning instances (OnlyPassing false).
		if got := valueNames(pq); !slices.Equal(got, []string{"web3", "web1"}) || pq.Datacenter != "dc1" || pq.Failovers != 0 {
			t.Errorf("answer %+v, instances %q: want web3 (n1) and web1 (n2) from dc1", pq, got)
		}
		blind, err := consul.New(consul.Options{Address: agent.Addr(), Token: cl.CreateToken(t, `node_prefix "" { policy = "read" }`), Agent: &found})
		if err != nil {
			t.Fatal(err)
		}
		defer blind.Close()
		res, err = fetchOnce(t, blind, spec)
		if err != nil || len(res.Value.(*watch.PreparedQuery).Nodes) != 0 || !strings.Contains(res.Warning, "service read on the prepared query's service") {
			t.Errorf("without service read: %+v, warning %q, error %v; want no instance and a warning naming the rule", res.Value, res.Warning, err)
		}
	})
}

// filterSpec parses a template's arguments as `service`, `services` or
// `nodes` does.
func filterSpec(t *testing.T, fn string, args []string) watch.Spec {
	t.Helper()
	rest, filter, err := watch.SplitFilter(fn, args)
	if err != nil {
		t.Fatal(err)
	}
	rest = append(rest, "")
	var spec watch.Spec
	switch fn {
	case "service":
		spec, err = watch.ParseService(rest[0], rest[1:len(rest)-1]...)
	case "services":
		spec, err = watch.ParseCatalog(watch.KindCatalogServices, rest[0])
	case "nodes":
		spec, err = watch.ParseCatalog(watch.KindCatalogNodes, rest[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	spec.Filter = filter
	return spec
}

// askConsul sends spec's request to Consul's HTTP API with the filter
// expression as the template wrote it, and returns the names of what
// Consul answers (instances of the statuses spec asks for, sorted unless
// ~near).
func askConsul(t *testing.T, base, token string, spec watch.Spec, args []string) []string {
	t.Helper()
	params := url.Values{}
	for _, a := range args {
		if expr, ok := strings.CutPrefix(a, "filter="); ok {
			params.Set("filter", expr)
		}
	}
	set := func(k, v string) {
		if v != "" {
			params.Set(k, v)
		}
	}
	set("dc", spec.DC)
	set("near", spec.Near)
	path := map[watch.Kind]string{watch.KindCatalogServices: "/v1/catalog/services", watch.KindCatalogNodes: "/v1/catalog/nodes"}[spec.Kind]
	if spec.Kind == watch.KindHealthService {
		path = "/v1/health/service/" + spec.Name
		set("tag", spec.Tag)
		if len(spec.Status) == 0 {
			params.Set("passing", "1")
		}
	}
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+path+"?"+params.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Consul-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", req.URL, resp.Status)
	}
	names := decodeNames(t, spec, json.NewDecoder(resp.Body))
	if spec.Near == "" {
		slices.Sort(names)
	}
	return names
}

// decodeNames returns the instance IDs, service names or node names of a
// raw answer; instances are kept when their worst check's status is one
// spec asks for.
func decodeNames(t *testing.T, spec watch.Spec, dec *json.Decoder) []string {
	t.Helper()
	var names []string
	switch spec.Kind {
	case watch.KindCatalogServices:
		var m map[string][]string
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		for name := range m {
			names = append(names, name)
		}
	case watch.KindCatalogNodes:
		var nodes []struct{ Node string }
		if err := dec.Decode(&nodes); err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			names = append(names, n.Node)
		}
	case watch.KindHealthService:
		var entries []struct {
			Service struct{ ID string }
			Checks  []struct{ Status string }
		}
		if err := dec.Decode(&entries); err != nil {
			t.Fatal(err)
		}
		rank := []string{watch.StatusPassing, watch.StatusWarning, watch.StatusCritical}
		for _, e := range entries {
			worst := 0
			for _, c := range e.Checks {
				worst = max(worst, slices.Index(rank, c.Status))
			}
			if len(spec.Status) == 0 || slices.Contains(spec.Status, watch.StatusAny) || slices.Contains(spec.Status, rank[worst]) {
				names = append(names, e.Service.ID)
			}
		}
	}
	return names
}
