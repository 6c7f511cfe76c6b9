// Command ctpl keeps configuration files rendered from Consul data and runs
// reload commands when their content changes.
//
// It reads its configuration from YAML files (-config, repeatable, later files
// win; package cmd/ctpl/internal/config holds the keys) and flags (which win
// over files), parses every template once, and runs
// the agent loop of package renderer against a watcher of package watch whose
// queries go to Consul through package watch/consul. This package is the only
// one that knows all of them: flags, config files, the logger, signals and
// wiring.
//
// Signals: SIGINT and SIGTERM stop ctpl gracefully (exit 0); SIGHUP re-reads
// the configuration and templates, and keeps the running ones when the new
// ones are invalid.
package main
