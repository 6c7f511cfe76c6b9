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
// A Client is safe for concurrent use; every request is bound to the context
// its caller passes, so cancelling it ends a long poll at once.
package consul
