package dependency

import (
	"slices"

	"github.com/ctpl/ctpl/watch/dependency/api"
)

// ServiceTags is a sorted list of service tags.
type ServiceTags []string

// Contains reports whether tag is one of t.
func (t ServiceTags) Contains(tag string) bool { return slices.Contains(t, tag) }

// HealthService is one service instance with its node and health, the
// element of what `service` and `connect` return.
type HealthService struct {
	Node                   string
	NodeID                 string
	NodeAddress            string
	NodeTaggedAddresses    map[string]string
	NodeMeta               map[string]string
	ServiceMeta            map[string]string
	Address                string
	ServiceTaggedAddresses map[string]api.ServiceAddress
	ID                     string
	Name                   string
	Tags                   ServiceTags
	Checks                 api.HealthChecks
	Status                 string
	Port                   int
	Weights                api.AgentWeights
}

// CatalogSnippet is one service name with the union of its instances'
// tags, the element of what `services` returns.
type CatalogSnippet struct {
	Name string
	Tags ServiceTags
}

// KeyPair is one KV entry, the element of what `ls` and `tree` return. Key
// is relative to the prefix of the query that returned it; Path is the
// full key.
type KeyPair struct {
	Path        string
	Key         string
	Value       string
	CreateIndex uint64
	ModifyIndex uint64
	LockIndex   uint64
	Flags       uint64
	Session     string
}

// Node is one catalog node, the element of what `nodes` returns.
type Node struct {
	ID              string
	Node            string
	Address         string
	Datacenter      string
	TaggedAddresses map[string]string
	Meta            map[string]string
}

// CatalogNode is a node with the services registered on it, what `node`
// returns.
type CatalogNode struct {
	Node     *Node
	Services []*CatalogNodeService
}

// CatalogNodeService is one service registered on a node.
type CatalogNodeService struct {
	ID                string
	Service           string
	Tags              ServiceTags
	Meta              map[string]string
	Port              int
	Address           string
	EnableTagOverride bool
}
