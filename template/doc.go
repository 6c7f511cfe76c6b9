// Package template parses ctpl templates once and executes them against the
// data ctpl has received, in consul-template's template language (Go's
// text/template plus data functions such as service, key and nodes).
//
// A template discovers what it needs by running: every data function records
// its query as used, and as missing when no data for it has arrived yet (the
// function then returns an empty value). The caller watches the used queries
// and writes the output only when nothing is missing. Nested queries, such as
// `service` called for each of `services`, are discovered over several
// executions as their data arrives.
//
// Package template never talks to Consul: it reads values through [Data],
// which *watch.Store satisfies.
//
// # Concurrency
//
// A [Template] is parsed once. [Template.Execute] may be called from several
// goroutines; executions of one Template are serialised.
package template
