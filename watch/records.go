package watch

import (
	"slices"
	"strings"

	"github.com/ctpl/ctpl/watch/dependency"
	"github.com/ctpl/ctpl/watch/dependency/api"
)

// The records templates see are defined in package dependency and its
// subpackage api, named and shaped as consul-template's, so that templates
// print them as consul-template does; these are their names in ctpl.
type (
	// ServiceTags is a sorted list of service tags.
	ServiceTags = dependency.ServiceTags
	// HealthService is one service instance with its node and health, the
	// element of what `service` returns.
	HealthService = dependency.HealthService
	// HealthCheck is one health check of a service instance or its node.
	HealthCheck = api.HealthCheck
	// CheckDefinition says how a health check runs.
	CheckDefinition = api.HealthCheckDefinition
	// ReadableDuration is a check definition's duration under its older
	// names.
	ReadableDuration = api.ReadableDuration
	// Weights are the DNS SRV weights of a service instance.
	Weights = api.AgentWeights
	// ServiceAddress is one of an instance's tagged addresses.
	ServiceAddress = api.ServiceAddress
	// CatalogService is one service name with the union of its instances'
	// tags, the element of what `services` returns.
	CatalogService = dependency.CatalogSnippet
	// KeyPair is one KV entry, the element of what `ls` and `tree` return.
	KeyPair = dependency.KeyPair
	// Node is one catalog node, the element of what `nodes` returns.
	Node = dependency.Node
	// NodeServices is a node with the services registered on it, what
	// `node` returns.
	NodeServices = dependency.CatalogNode
	// NodeService is one service registered on a node.
	NodeService = dependency.CatalogNodeService
	// CARoot is one Connect CA root certificate.
	CARoot = api.CARoot
	// LeafCert is a Connect leaf certificate, what `caLeaf` returns.
	LeafCert = api.LeafCert
)

// AggregateStatus returns the status of an instance from its checks the way
// consul-template computes it: any maintenance check wins, then critical,
// then warning, else passing (also with no checks at all).
func AggregateStatus(checks []*HealthCheck) string {
	var warning, critical bool
	for _, c := range checks {
		if c.CheckID == "_node_maintenance" || strings.HasPrefix(c.CheckID, "_service_maintenance:") {
			return StatusMaintenance
		}
		switch c.Status {
		case StatusCritical:
			critical = true
		case StatusWarning:
			warning = true
		}
	}
	switch {
	case critical:
		return StatusCritical
	case warning:
		return StatusWarning
	}
	return StatusPassing
}

// SortHealthServices orders instances by node name, then service ID.
func SortHealthServices(s []*HealthService) {
	slices.SortStableFunc(s, func(a, b *HealthService) int {
		if c := strings.Compare(a.Node, b.Node); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// KVValue is the result of a kv.get query: the value and whether the key
// exists at all.
type KVValue struct {
	Value  string
	Exists bool
}
