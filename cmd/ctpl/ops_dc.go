package main

import (
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
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

// warnDCRestart says, on a config reload, that the top-level keys of
// several datacenters changed and take effect on restart (a template's own
// ready_ignore takes effect at once).
func warnDCRestart(log *slog.Logger, old, cfg config.Config) {
	if !slices.Equal(old.ReadyIgnore, cfg.ReadyIgnore) || old.PreparedQueryInterval != cfg.PreparedQueryInterval {
		log.Warn("ready_ignore and prepared_query_interval changes take effect on restart")
	}
}
