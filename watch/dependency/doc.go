// Package dependency holds the records templates see, named, shaped and
// ordered as consul-template v0.41.1's package of the same name defines
// them, so that a template printing a whole record ({{ . }}, printf "%v",
// "%+v", "%s", "%q", "%T") prints byte for byte what consul-template
// prints: the same fields in the same order, the same types and the same
// type names (dependency.HealthService, dependency.KeyPair, …).
//
// The parts consul-template takes from Consul's API client (checks, their
// definitions, weights, tagged addresses, CA roots, leaf certificates) are
// in the subpackage api, which is named api for the same reason.
//
// Only what consul-template exposes is here. Whatever ctpl needs beyond it
// is held outside the records (package watch and the adapters), so no
// extra field can show in a printed value. Package watch re-exports every
// type under its own names ([watch.HealthService] = HealthService,
// [watch.CatalogService] = CatalogSnippet, [watch.NodeServices] =
// CatalogNode, …); the rest of ctpl uses those names.
//
// # Concurrency
//
// Records are plain values. Once stored they are shared between the agent
// loop and the templates and are never modified.
package dependency
