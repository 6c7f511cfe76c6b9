package telemetry_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/telemetry"
)

func TestDatacenterReadiness(t *testing.T) {
	now := time.Now()
	down := telemetry.Query{Err: "no path to datacenter", ErrSince: now.Add(-90 * time.Second), DC: "dc2"}
	queries := map[string]telemetry.Query{
		"health.service(web@dc2)": down,
		"kv.get(region@dc2)":      down,
		"catalog.nodes(@dc2)":     {DC: "dc2"},
		"health.service(web)":     {},
	}
	reads := func(ignore ...string) renderer.TemplateStatus {
		return renderer.TemplateStatus{Datacenters: []string{"dc2"}, ReadyIgnore: ignore}
	}
	tests := []struct {
		name      string
		ignore    []string
		templates []renderer.TemplateStatus
		queries   map[string]telemetry.Query
		wantReady bool
		wantWhy   string
	}{
		{name: "a remote datacenter fails readiness by default", queries: queries,
			wantWhy: "datacenter dc2: 2 queries' data up to 1m30s old (max 1m0s), e.g. health.service(web@dc2): no path"},
		{name: "ready_ignore @dc2", ignore: []string{"@dc2"}, queries: queries, wantReady: true},
		{name: "ready_ignore @*", ignore: []string{"@*"}, queries: queries, wantReady: true},
		{name: "@* leaves the local datacenter", ignore: []string{"@*"},
			queries: map[string]telemetry.Query{"health.service(web)": {Err: "refused", ErrSince: now.Add(-time.Hour)}},
			wantWhy: "health.service(web): data 1h0m0s old"},
		{name: "a template's @*", templates: []renderer.TemplateStatus{reads("@*")}, queries: queries, wantReady: true},
		{name: "ready_ignore names one query", ignore: []string{"kv.get(region@dc2)"}, queries: queries,
			wantWhy: "health.service(web@dc2): data 1m30s old (max 1m0s): no path to datacenter"},
		{name: "every template reading dc2 ignores it", templates: []renderer.TemplateStatus{reads("@dc2"), reads("@dc2"), {}},
			queries: queries, wantReady: true},
		{name: "one template reading dc2 does not", templates: []renderer.TemplateStatus{reads("@dc2"), reads()},
			queries: queries, wantWhy: "datacenter dc2"},
		{name: "a local query is never ignored by a datacenter", ignore: []string{"@dc1"},
			queries: map[string]telemetry.Query{"health.service(web)": {Err: "refused", ErrSince: now.Add(-time.Hour)}},
			wantWhy: "health.service(web): data 1h0m0s old"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := telemetry.Sources{
				Status:    func() renderer.Status { return renderer.Status{Ready: true, Templates: tc.templates} },
				Freshness: func() map[string]telemetry.Query { return tc.queries },
			}
			r := telemetry.NewReport(src, "v", telemetry.Readiness{MaxDataAge: time.Minute, Ignore: tc.ignore}, now)
			if r.Ready != tc.wantReady {
				t.Errorf("Ready = %v, want %v (%q)", r.Ready, tc.wantReady, r.Reasons)
			}
			if tc.wantWhy != "" && !strings.Contains(strings.Join(r.Reasons, "\n"), tc.wantWhy) {
				t.Errorf("reasons %q lack %q", r.Reasons, tc.wantWhy)
			}
		})
	}
}

func TestDatacenterReports(t *testing.T) {
	now := time.Now()
	src := telemetry.Sources{Freshness: func() map[string]telemetry.Query {
		return map[string]telemetry.Query{
			"health.service(web@dc2)": {Err: "x", ErrSince: now.Add(-12 * time.Minute), DC: "dc2"},
			"kv.get(region@dc2)":      {Err: "x", ErrSince: now.Add(-time.Minute), DC: "dc2"},
			"catalog.nodes(@dc2)":     {DC: "dc2"},
			"health.service(web)":     {},
		}
	}}
	r := telemetry.NewReport(src, "v", telemetry.Readiness{Ignore: []string{"@dc2"}}, now)
	if len(r.Datacenters) != 2 {
		t.Fatalf("datacenters %+v, want dc2 and local", r.Datacenters)
	}
	dc2, local := r.Datacenters[0], r.Datacenters[1]
	if dc2.Name != "dc2" || dc2.Queries != 3 || dc2.Failing != 2 || dc2.Stale != "dc2 data 12m0s old" || !dc2.ReadyIgnored {
		t.Errorf("dc2: %+v", dc2)
	}
	if local.Name != telemetry.LocalDatacenter || local.Queries != 1 || local.Failing != 0 || local.Stale != "" {
		t.Errorf("local: %+v", local)
	}
}
