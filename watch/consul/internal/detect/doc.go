// Package detect tells followers when to read again: the change detectors
// and the generations they move.
//
// A [Tracker] keeps one change generation per service name and one for
// everything; [Follow] runs a follower against it (wait, then probe or
// re-read). [Run] runs the four change detectors, blocking queries over
// whole tables (the checks in state critical, in state warning, the
// service list, the node list), which attribute each change they see to
// service names, bumping their generations, or, when they cannot, bump
// every generation. Registrations under an existing name are attributed by
// node sweeps, which probe the per-node indexes and re-read only the nodes
// whose index moved. docs/architecture.md gives the consistency argument.
//
// The package reads Consul only through a [Source], which the adapter
// implements over its HTTP client; it imports nothing of Consul's.
//
// # Concurrency
//
// Run owns its goroutines: one per detector, and up to 16 workers during
// a node sweep, each waited for; it returns once ctx has ended and they
// have all returned. A Source must be safe for concurrent use. A Tracker is
// safe for concurrent use; Follow blocks its caller only.
package detect
