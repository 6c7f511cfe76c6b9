// Package consultest starts real Consul agents for tests, a single dev
// agent or a cluster of servers and client agents, and offers small helpers
// to shape their catalog, KV store and ACLs.
//
// Every agent is a process bound to 127.0.0.1 with every port (HTTP, DNS,
// serf LAN, serf WAN, server RPC and, on request, HTTPS) chosen at random
// among free ports below the kernel's ephemeral range, and gRPC switched
// off, so agents of tests running in parallel, in one process or in
// several, do not collide. The helpers fail the test when an agent is not
// ready after 30 s, and print the tail of every agent's log when the test
// failed.
//
// # Dev agents
//
// [Start] runs `consul agent -dev` without ACLs and returns once the agent
// has a leader and accepts catalog writes; the agent is stopped when the
// test ends. It keeps nothing across [Agent.Restart].
//
// # Clusters
//
// [StartCluster] runs a datacenter of [Servers] (bootstrap_expect = their
// number) and [Clients], each with its own data directory under
// t.TempDir(), a unique node name, `performance { raft_multiplier = 1 }`
// and retry-join addresses of the servers. The servers start together, the
// client agents once the servers have a leader. ACLs are on in every agent
// (default policy deny, down policy extend-cache); a random management
// token ([Cluster.ManagementToken]) is the servers' initial_management token
// and every agent's agent token, and every helper of the cluster's agents
// sends it. [Cluster.CreateToken] and [Cluster.DeleteToken] make and revoke
// least-privilege tokens. Client agents serve blocking health queries from
// the streaming backend (Consul's default), as production agents do.
//
// Failures are real: [Agent.Kill] crashes an agent, [Cluster.WaitLeader]
// waits for a new leader, [Agent.StartAgain] restarts the agent with its
// data. [Cluster.JoinWAN] federates two datacenters. [Agent.Metrics] reads
// an agent's counters, gauges and timers. The test's end kills every agent
// of a cluster at once.
//
// # Finding the binary
//
// The Consul binary is $CTPL_CONSUL_BIN when that is set, otherwise bin/consul
// at the repository root (the directory whose go.mod declares module
// github.com/ctpl/ctpl, found by walking up from the working directory). Build
// it with `make consul`. Without a binary, Start and StartCluster skip the
// test, unless CTPL_REQUIRE_CONSUL=1, which CI sets, turns the skip into a
// failure.
//
// # Talking to the agent
//
// The helpers speak Consul's HTTP API with net/http and encoding/json: this
// package does not import github.com/hashicorp/consul/api, which belongs to
// the adapter package watch/consul alone. Every helper taking a testing.TB
// fails the test with t.Fatalf on any error, so, like t.Fatal itself, it must
// be called from the goroutine running the test.
//
// # Concurrency
//
// An [Agent] is safe for concurrent use: its HTTP helpers share nothing
// mutable, and [Agent.Stop], [Agent.Kill], [Agent.Restart] and
// [Agent.StartAgain] serialise on the process they replace. A [Cluster] is
// immutable once StartCluster returns; its methods only read it and call
// its agents. StartCluster starts and stops agents in goroutines it waits
// for before it returns or the cleanup ends.
package consultest
