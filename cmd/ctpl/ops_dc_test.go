package main

import (
	"strings"
	"testing"

	"github.com/ctpl/ctpl/telemetry"
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
