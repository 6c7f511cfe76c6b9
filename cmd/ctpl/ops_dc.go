package main

import (
	"fmt"
	"io"

	"github.com/ctpl/ctpl/telemetry"
)

// readiness is what /readyz and the status report weigh.
func (o *ops) readiness() telemetry.Readiness {
	maxAge, ignore := o.cfg.Readiness()
	return telemetry.Readiness{MaxDataAge: maxAge, Ignore: ignore}
}

// printStaleDatacenters writes one line per datacenter other than the
// agent's own whose queries fail: "dc2 data 12m0s old (3 of 5 queries
// failing)". The agent's own failing queries are in the reasons above.
func printStaleDatacenters(w io.Writer, dcs []telemetry.DatacenterReport) {
	for _, d := range dcs {
		if d.Stale == "" || d.Name == telemetry.LocalDatacenter {
			continue
		}
		ignored := ""
		if d.ReadyIgnored {
			ignored = "; ready_ignore"
		}
		fmt.Fprintf(w, "  * %s (%d of %d queries failing%s)\n", d.Stale, d.Failing, d.Queries, ignored)
	}
}
