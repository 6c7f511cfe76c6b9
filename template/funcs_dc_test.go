package template_test

import (
	"strings"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// TestFilterAndQueryArguments: a "filter=" argument becomes the query's
// filter expression without touching consul-template's grammar, and query
// parses name@dc~near; a prepared query's answer renders.
func TestFilterAndQueryArguments(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    string // the used query's canonical string
		wantErr string
	}{
		{name: "service", text: `{{ service "web@dc2" "filter=Service.Meta.version != \"1\"" }}`,
			want: `health.service(web@dc2 filter="Service.Meta.version != \"1\"")`},
		{name: "service with a status", text: `{{ service "web" "filter=Node.Meta.rack == \"r 2\"" "any" }}`,
			want: `health.service(web|any filter="Node.Meta.rack == \"r 2\"")`},
		{name: "services", text: `{{ services "@dc2" "filter=ServiceTags contains \"http\"" }}`,
			want: `catalog.services(@dc2 filter="ServiceTags contains \"http\"")`},
		{name: "services, the filter alone", text: `{{ services "filter=ServiceName != \"consul\"" }}`,
			want: `catalog.services(filter="ServiceName != \"consul\"")`},
		{name: "nodes", text: `{{ nodes "filter=Meta.rack == \"r1\"" }}`, want: `catalog.nodes(filter="Meta.rack == \"r1\"")`},
		{name: "query", text: `{{ query "web-pq@dc2~_agent" }}`, want: `query.execute(web-pq@dc2~_agent)`},
		{name: "nodes, two queries", text: `{{ nodes "@dc1" "@dc2" }}`, wantErr: "want at most 1 argument"},
		{name: "two filters", text: `{{ service "web" "filter=a == 1" "filter=b == 2" }}`, wantErr: "more than one filter"},
		{name: "query grammar", text: `{{ query "web pq" }}`, wantErr: "want name[@dc][~near]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := template.Parse("t.tmpl", tc.text, template.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tmpl.Execute(watch.NewStore())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Used) != 1 || res.Used[0].String() != tc.want {
				t.Fatalf("used %v, want %s", res.Used, tc.want)
			}
		})
	}
}

func TestQueryRenders(t *testing.T) {
	tmpl, err := template.Parse("t.tmpl", `{{ with query "pq" }}{{ .Service }}@{{ .Datacenter }} failovers={{ .Failovers }}:{{ range .Nodes }} {{ .Address }}{{ end }}{{ end }}`, template.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := watch.NewStore()
	spec, _ := watch.ParsePreparedQuery("pq")
	st.Apply(watch.Update{Key: spec.String(), Value: &watch.PreparedQuery{Service: "web", Datacenter: "dc2", Failovers: 1,
		Nodes: []*watch.HealthService{{Address: "10.2.0.1"}, {Address: "10.2.0.2"}}}, Index: 1})
	res, err := tmpl.Execute(st)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(res.Output), "web@dc2 failovers=1: 10.2.0.1 10.2.0.2"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
