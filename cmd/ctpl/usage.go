package main

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
)

// exitCodes is the one table of ctpl's exit codes: -h prints it and the
// README's table must list the same rows (TestExitCodeTableInReadme).
var exitCodes = []struct {
	code    int
	meaning string
}{
	{exitOK, "success, or stopped by SIGINT/SIGTERM"},
	{statusNotReady, "`status`: the agent is not ready or has stopped; `plan`: an error; `test`: a case failed"},
	{exitPlanChanges, "`plan`: something would change"},
	{exitError, "runtime error (e.g. the pid file cannot be written)"},
	{exitFlags, "bad command-line flags or flag values"},
	{exitRunner, "-once failed: a template, check or command failed"},
	{exitConfig, "invalid configuration, template or data file (errors name file:line:col)"},
	{exitUnreachable, "-once: Consul unreachable within -once-connect-timeout (also `snapshot`, a live `plan`)"},
	{exitNoData, "-once: data never arrived for the queries it names before -once-timeout (with `-data`: the file lacks them)"},
	{exitTokenUnknown, "-once: Consul does not know the ACL token: revoked, expired or mistyped (also `snapshot`, a live `plan`)"},
}

// printUsage is -h: synopsis, two examples, the flags and the exit codes.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage: ctpl [flags]
       ctpl status [-addr host:port | -state-dir DIR] [-format table|json]
       ctpl check | test [DIR] | plan | snapshot -o FILE   (CI, with or without Consul: docs/ci.md)

Keeps files rendered from Consul data and runs commands when they change.

Examples:
  # nginx upstreams from the local Consul agent, reloaded on change
  ctpl -consul-addr 127.0.0.1:8500 \
       -template "/etc/ctpl/upstreams.tmpl:/etc/nginx/conf.d/upstreams.conf:nginx -s reload"

  # render once from a config file and print what would be written
  ctpl -config /etc/ctpl/ctpl.yaml -once -dry

Flags:
`)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nExit codes:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, e := range exitCodes {
		fmt.Fprintf(tw, "  %d\t%s\n", e.code, e.meaning)
	}
	tw.Flush()
}
