// Package watch owns what ctpl watches and how: the [Spec] that names a query
// and is its identity, the [Query] a data source implements for it, the
// [Watcher] that runs one blocking loop per distinct query, and the [Store] the
// agent loop keeps the latest results in.
//
// The record types a query returns ([HealthService], [CatalogService],
// [KeyPair], [Node], [NodeServices]) are named here too, so templates can
// read them without knowing which adapter fetched them. They are aliases of
// the types of package watch/dependency (and its subpackage api), which
// defines them as consul-template does, so that templates print them as
// consul-template does. Adapters such as watch/consul import this package;
// it imports none of ours but those two.
//
// # Blocking-query rules
//
// A Watcher asks each query with the index of its last result (0 after an
// error, so a restarted server cannot hold a request back for a whole wait).
// A result with the same index is no change; a lower index resets the query
// to index 0 and reads again; a result whose value equals the last one sent
// produces no update. Requests of one query are spaced by a small token
// bucket, every request carries a client-side deadline (wait + wait/16 + a
// grace period), and errors are retried forever with exponential backoff and
// full jitter.
//
// # Concurrency
//
// A Watcher is safe for concurrent use; it owns one goroutine per query and
// stops them when its context is cancelled or [Watcher.Close] is called,
// which waits for all of them. Updates arrive on a single channel read by one
// consumer. A Store is not safe for concurrent use: the agent loop owns it.
package watch
