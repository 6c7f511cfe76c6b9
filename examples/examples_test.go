package examples_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// registry is a fixed snapshot of Consul data, keyed by query.
type registry map[string]any

func (r registry) Get(key string) (any, bool) { v, ok := r[key]; return v, ok }

func instance(node, addr string, port int) *watch.HealthService {
	return &watch.HealthService{Node: node, Address: addr, Port: port, Status: "passing"}
}

var snapshot = registry{
	"catalog.services()": []*watch.CatalogService{
		{Name: "api", Tags: watch.ServiceTags{"http"}},
		{Name: "consul"},
		{Name: "empty", Tags: watch.ServiceTags{"http"}},
		{Name: "web", Tags: watch.ServiceTags{"canary", "http"}},
	},
	"health.service(api)":   []*watch.HealthService{instance("n-api", "10.0.1.1", 9000)},
	"health.service(empty)": []*watch.HealthService{},
	"health.service(web)": []*watch.HealthService{
		instance("n1", "10.0.0.1", 8081), instance("n2", "10.0.0.2", 8082),
	},
}

func TestExamplesRender(t *testing.T) {
	tests := []struct {
		name     string
		template string
		golden   string
	}{
		{name: "nginx upstreams", template: "nginx/upstreams.tmpl", golden: "nginx/testdata/upstreams.golden"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := template.ParseFile(tc.template, template.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tmpl.Execute(snapshot)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete() {
				t.Fatalf("queries missing from the snapshot: %v", res.Missing)
			}
			if *update {
				if err := os.WriteFile(filepath.FromSlash(tc.golden), res.Output, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(filepath.FromSlash(tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != string(want) {
				t.Errorf("rendered:\n%s\nwant (%s):\n%s", res.Output, tc.golden, want)
			}
		})
	}
}
