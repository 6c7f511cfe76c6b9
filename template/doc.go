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
// # Functions
//
// The functions are grouped by file: funcs_consul.go (service, connect,
// services, nodes, node, the KV functions), funcs_data.go (datacenters,
// caRoots, caLeaf, file), funcs_text.go, funcs_collections.go,
// funcs_encoding.go, funcs_math.go, funcs_env.go, funcs_scratch.go,
// funcs_sprig.go, and ctpl's own output helpers in funcs_guard.go
// (nginxQuote, haproxyQuote, isIP, mustIP, …). The functions that act on
// the host, plugin and writeToFile (funcs_host_actions.go), are denied
// unless [Options.Allow] names them; [Options.Denylist] denies more by glob.
// A denied function makes [Parse] fail naming it. Errors of an execution are
// [*ExecError]s naming the file, line, column, action and query.
//
// docs/templates.md describes the language for template authors.
//
// # Concurrency
//
// A [Template] is parsed once. [Template.Execute] may be called from several
// goroutines; executions of one Template are serialised.
package template
