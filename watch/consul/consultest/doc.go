// Package consultest starts a real Consul agent in development mode for tests
// and offers small helpers to shape its catalog and KV store.
//
// [Start] runs `consul agent -dev` bound to 127.0.0.1, with every port (HTTP,
// DNS, serf LAN, serf WAN, server RPC and, on request, HTTPS) chosen at random
// among free ports below the kernel's ephemeral range, and gRPC switched off,
// so agents of tests running in parallel, in one process or in several, do
// not collide. Start returns once the agent has a leader and accepts catalog
// writes; the agent is stopped when the test ends, and the tail of its log is
// printed if the test failed.
//
// # Finding the binary
//
// The Consul binary is $CTPL_CONSUL_BIN when that is set, otherwise bin/consul
// at the repository root (the directory whose go.mod declares module
// github.com/ctpl/ctpl, found by walking up from the working directory). Build
// it with `make consul`. Without a binary, Start skips the test, unless
// CTPL_REQUIRE_CONSUL=1, which CI sets, turns the skip into a failure.
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
// mutable, and [Agent.Stop] and [Agent.Restart] serialise on the process they
// replace.
package consultest
