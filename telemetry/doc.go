// Package telemetry exposes a running ctpl to operators: Prometheus metrics
// ([Metrics]), and an HTTP listener ([Server]) serving /metrics, /healthz
// (the process answers), /readyz (every template rendered or holding good
// content, and no query's data older than a configured age) and /status (a
// JSON [Report] that `ctpl status` prints).
//
// Metrics receives events as a renderer.Observer and as the observer of
// Consul requests; values that are cheaper to read than to track (query
// freshness, template states, open connections) are read at scrape time
// through [Sources].
//
// Concurrency: every method of Metrics is safe from any goroutine and never
// blocks. Server.Run is a loop owned by its caller; it returns when its
// context ends, after the listener has shut down.
package telemetry
