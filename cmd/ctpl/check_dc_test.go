package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/watch"
)

// TestCheckFilterAndQueryArguments: `ctpl check` reads the arguments of
// issue 15's forms as the functions do at run time: "filter=…" arguments
// of service, connect, services and nodes, and query's name[@dc][~near].
func TestCheckFilterAndQueryArguments(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, text string
		want       string // in the report; "" for a template check accepts
	}{
		{name: "filters", text: "{{ range service \"web\" \"passing\" `filter=Service.Meta.v != \"1\"` }}{{ end }}" +
			"{{ range connect \"web@dc2\" \"filter=Service.ID == \\\"x\\\"\" }}{{ end }}" +
			"{{ range services \"filter=ServiceName != \\\"consul\\\"\" }}{{ end }}" +
			"{{ range nodes \"@dc2\" \"filter=Meta.rack == \\\"r 2\\\"\" }}{{ end }}"},
		{name: "prepared queries", text: `{{ with query "web-failover@dc2~_agent" }}{{ .Datacenter }}{{ end }}`},
		{name: "two filters", text: `{{ service "web" "filter=a" "filter=b" }}`, want: "more than one filter argument"},
		{name: "a control character", text: "{{ service \"web\" \"filter=Service.ID == \\\"\\x01\\\"\" }}", want: "control character"},
		{name: "only a filter", text: `{{ service "filter=Service.ID == \"x\"" }}`, want: "empty service query"},
		{name: "nodes with two queries", text: `{{ nodes "@dc2" "@dc3" "filter=Node != \"x\"" }}`, want: "at most 1 argument"},
		{name: "a bad prepared query", text: `{{ query "web/../x" }}`, want: `query "web/../x": want name[@dc][~near]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFile(t, filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".tmpl"), tc.text+"\n")
			code, stdout, _ := runCtpl(t, "check", "-template", src+":"+filepath.Join(dir, "out"))
			switch {
			case tc.want == "" && code != exitOK:
				t.Errorf("check exited %d, want %d:\n%s", code, exitOK, stdout)
			case tc.want != "" && (code != exitConfig || !strings.Contains(stdout, src+":1:") || !strings.Contains(stdout, tc.want)):
				t.Errorf("check exited %d, want %d with a located error saying %q:\n%s", code, exitConfig, tc.want, stdout)
			}
		})
	}
}

// TestCostOfPreparedQueries: a prepared query is polled on a plain-read
// slot, not held as a long poll, and costs executions whatever changes.
func TestCostOfPreparedQueries(t *testing.T) {
	specs := map[string]watch.Spec{}
	for _, q := range []string{"web-failover", "db@dc2"} {
		s, err := watch.ParsePreparedQuery(q)
		if err != nil {
			t.Fatal(err)
		}
		specs[s.String()] = s
	}
	web, _ := watch.ParseService("web")
	specs[web.String()] = web
	cfg := config.Default()
	cfg.Consul.MaxConns = 6 // 2 long polls
	cfg.PreparedQueryInterval = 2 * time.Second
	c := estimateCost(cfg, specs, nil)
	if c.Queries != 3 || c.Detectors {
		t.Errorf("queries %d, change detectors %v; want 3 queries, the one health query holding a long poll of %d", c.Queries, c.Detectors, c.LongPolls)
	}
	want := "2 prepared queries polled every 2s (prepared_query_interval): about 67 executions a minute"
	if !slices.ContainsFunc(c.Warnings, func(w string) bool { return strings.HasPrefix(w, want) }) {
		t.Errorf("warnings %q, want one starting %q", c.Warnings, want)
	}
}
