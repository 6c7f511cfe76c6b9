// Command bench compares ctpl with consul-template v0.41.1 on the same
// workload against a real Consul agent: `make bench`.
//
// For each scenario it starts a Consul dev agent (ports below the kernel's
// ephemeral range, through consultest), seeds N services × M instances with
// unique address:port lines and one check each, and then runs each tool in
// turn on the same template, measuring:
//
//   - first render: process start to the first complete file;
//   - change-to-file latency over isolated health flips: the Consul write
//     returned → the line appears or disappears in the file, seen through
//     inotify on the destination directory;
//   - churn: 50 flips a second for 30 s: reload commands run, lost updates
//     (lines differing from Consul's final state after settling);
//   - CPU seconds per 1,000 changes, peak RSS, the most TCP connections to
//     Consul at once, 429 answers logged, and whether the tool still runs.
//
// consul-template is stopped with SIGINT (it ignores SIGTERM). The results
// are printed as one table and written to docs/benchmarks.md with the
// machine's description and the date.
//
// Each scenario owns its agent and its tool processes; everything is stopped
// before the next scenario starts.
package main
