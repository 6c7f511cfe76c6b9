package dependency

// PreparedQuery is one execution of a Consul prepared query, what ctpl's
// own `query` function returns (consul-template has no such function, so
// the type is ctpl's).
type PreparedQuery struct {
	// Service is the service the query looked up.
	Service string
	// Datacenter is the datacenter that answered: another than the one
	// asked after a failover.
	Datacenter string
	// Failovers is how many datacenters were tried before the one that
	// answered.
	Failovers int
	// Nodes are the instances the query returned (healthy ones, as the
	// query's definition says), sorted by node then ID unless the query
	// was asked ~near a node.
	Nodes []*HealthService
}
