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
//
// With -fleet (`make bench-fleet`, fleet*.go) it measures instead what each
// tool costs Consul's servers in production topology: per tool and
// scenario a fresh cluster of 3 servers and 4 or 16 client agents with ACLs
// on (consultest.StartCluster), seeded through the leader, one tool
// instance per client agent with a least-privilege token. Health flips are
// made first with no tool running (the baseline), then with the tools, each
// waited for until every agent's file shows it; the servers' CPU and RPCs,
// the client agents' and the tools' CPU, minus the baseline, are reported
// per change per agent in the fleet section of docs/benchmarks.md (between
// <!-- fleet:begin --> and <!-- fleet:end -->), which `make bench` keeps.
//
// Concurrency: one goroutine drives each run; an observer goroutine per
// output directory and one connection sampler per tool fleet run beside it
// and are stopped before the run's cluster is killed.
package main
