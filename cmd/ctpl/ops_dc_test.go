package main

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/telemetry"
	"github.com/ctpl/ctpl/watch"
)

func TestPrintStaleDatacenters(t *testing.T) {
	var b strings.Builder
	printStaleDatacenters(&b, []telemetry.DatacenterReport{
		{Name: telemetry.LocalDatacenter, Queries: 3, Failing: 1, Stale: "local data 5s old"},
		{Name: "dc2", Queries: 5, Failing: 3, Stale: "dc2 data 12m0s old", ReadyIgnored: true},
		{Name: "dc3", Queries: 2},
	})
	if want := "  * dc2 data 12m0s old (3 of 5 queries failing; ready_ignore)\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// TestAgentsOwnDatacenterNamedCounts: with the default ready_ignore ("@*"),
// a query naming the agent's own datacenter (`service "web@dc1"` through a
// dc1 agent) is local data: its age fails /readyz as the unnamed queries'
// does, while a remote datacenter's stays ignored.
func TestAgentsOwnDatacenterNamedCounts(t *testing.T) {
	now := time.Now()
	failing := func(dc string) watch.QueryState {
		return watch.QueryState{Err: errors.New("connection refused"), ErrSince: now.Add(-time.Hour), DC: dc}
	}
	states := map[string]watch.QueryState{"health.service(web@dc1)": failing("dc1"), "health.service(web@dc2)": failing("dc2")}
	src := telemetry.Sources{
		Status:    func() renderer.Status { return renderer.Status{Ready: true} },
		Freshness: func() map[string]telemetry.Query { return queryStates(states, "dc1") },
	}
	r := telemetry.NewReport(src, "test", telemetry.Readiness{MaxDataAge: time.Minute, Ignore: []string{"@*"}}, now)
	if r.Ready || len(r.Reasons) != 1 || !strings.Contains(r.Reasons[0], "health.service(web@dc1)") {
		t.Errorf("ready %v, reasons %q; want unready for web@dc1 only", r.Ready, r.Reasons)
	}
	var names []string
	for _, d := range r.Datacenters {
		names = append(names, d.Name)
	}
	if want := []string{"dc2", telemetry.LocalDatacenter}; !slices.Equal(names, want) {
		t.Errorf("datacenters %q, want %q", names, want)
	}
}
