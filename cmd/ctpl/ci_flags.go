package main

import (
	"flag"
	"time"
)

// The exit codes of CI use, beside consul-template's (main.go). Every code
// is listed in docs/operations.md.
const (
	// exitPlanError is plan's error, as terraform plan -detailed-exitcode.
	exitPlanError = 1
	// exitPlanChanges is plan's "something would change".
	exitPlanChanges = 2
	// exitUnreachable: -once (snapshot, a live plan) could not reach Consul
	// at all within -once-connect-timeout.
	exitUnreachable = 16
	// exitNoData: some queries never got data: with -once before
	// -once-timeout, offline because the data file lacks them.
	exitNoData = 17
	// exitTokenUnknown: -once (snapshot, a live plan) with a token Consul
	// does not know.
	exitTokenUnknown = 18
)

// ciFlags are the flags of offline rendering and CI use, beside flags.
type ciFlags struct {
	data        string
	dataMissing string
	parseOnly   bool
	connectWait time.Duration
}

// addCIFlags registers the CI flags on fs.
func addCIFlags(fs *flag.FlagSet) *ciFlags {
	c := &ciFlags{}
	fs.StringVar(&c.data, "data", "", "render from this data `file` (a snapshot or fixture) with no network: with -once, -dry")
	fs.StringVar(&c.dataMissing, "data-missing", "error", "with -data, what a query the file lacks is: `mode` error (exit 17) or empty")
	fs.BoolVar(&c.parseOnly, "parse-only", false, "check the config and templates with no network and exit (as ctpl check)")
	fs.DurationVar(&c.connectWait, "once-connect-timeout", 5*time.Second,
		"with -once, retry reaching Consul for this `duration`, then exit 16")
	return c
}
