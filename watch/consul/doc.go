// Package consul is the adapter between package watch and Consul's HTTP API:
// the only package of ctpl that imports github.com/hashicorp/consul/api.
//
// [New] builds a [Client] from api.DefaultConfig, so every CONSUL_*
// environment variable the official client reads (address, token, TLS
// settings) works unchanged; explicit [Options] win over the environment.
// [Client.Query] turns a [watch.Spec] into a [watch.Query] through a table of
// constructors, one per [watch.Kind]; each query converts Consul's answer into
// watch's record types, sorted the way consul-template sorts them.
//
// # Connections
//
// Over HTTPS, requests are multiplexed with HTTP/2 over at most four TCP
// connections. Over plain HTTP (one request per connection) the client keeps
// within a connection budget ([Options.MaxConns], default 100), which a 429
// from Consul lowers further. The budget splits into plain-read slots,
// long-poll slots and four change detectors. A health query that finds no
// long-poll slot free follows the detectors instead of holding a connection:
// it is read afresh, on a plain-read slot, whenever a detector attributes a
// change to its service or sees a change it cannot attribute. See
// docs/architecture.md for the consistency argument.
//
// # Parts
//
// The adapter keeps the [Client], its queries and options, ACLs, tokens,
// topology, the transport and its limits, and the raw reader that sends the
// hot requests; it decides which query takes which slot and runs the
// followers' re-reads and probes. What can be read alone lives in internal
// packages with small APIs, which import nothing of Consul's:
//
//   - internal/decode: the JSON lexer, the decoders of health answers,
//     the service list and check lists into watch's records, interning,
//     and the body hashes that skip unchanged answers and entries.
//   - internal/gate: the connection budget, its resizable semaphores
//     (preemption, FIFO and urgent waiters, lending) and their headroom.
//   - internal/detect: the change detectors and node sweeps, which read
//     Consul through the detect.Source this package implements, and the
//     change generations followers wait on.
//
// A Client is safe for concurrent use; every request is bound to the context
// its caller passes, so cancelling it ends a long poll at once. [Client.Close]
// stops the change detectors and waits for them.
package consul
