// Package api holds the records consul-template v0.41.1 takes from
// Consul's API client and hands to templates unchanged: health checks and
// their definitions, weights, tagged addresses, CA roots and leaf
// certificates. They are defined here, with the client's field lists, field
// types and package name, so that templates print them as consul-template
// does (%T names api.HealthCheck, a check definition's Interval prints as
// nanoseconds inside a record and as "10s" alone); this package is not
// Consul's API client and does not talk to Consul.
//
// # Concurrency
//
// Records are plain values, never modified once stored.
package api
