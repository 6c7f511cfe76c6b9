package watch

import (
	"slices"
	"strings"
	"time"
)

// ServiceTags is a sorted list of service tags.
type ServiceTags []string

// Contains reports whether tag is one of t.
func (t ServiceTags) Contains(tag string) bool { return slices.Contains(t, tag) }

// HealthCheck is one health check of a service instance or its node.
type HealthCheck struct {
	Node        string
	CheckID     string
	Name        string
	Status      string
	Notes       string
	Output      string
	ServiceID   string
	ServiceName string
	ServiceTags []string
	Type        string
	Namespace   string `json:",omitempty"`
	Partition   string `json:",omitempty"`
	ExposedPort int
	PeerName    string `json:",omitempty"`
	Definition  CheckDefinition
	CreateIndex uint64
	ModifyIndex uint64
}

// Weights are the DNS SRV weights of a service instance.
type Weights struct {
	Passing int
	Warning int
}

// ServiceAddress is one of an instance's tagged addresses (lan_ipv4,
// wan, virtual, …).
type ServiceAddress struct {
	Address string
	Port    int
}

// HealthService is one service instance with its node and health, the
// element of what `service` returns. Fields consul-template lacks are left
// out of its JSON and YAML, so toJSON and toYAML render what consul-template
// renders.
type HealthService struct {
	Node                string
	NodeID              string
	Kind                string `json:"-" yaml:"-"`
	NodeAddress         string
	NodeDatacenter      string `json:"-" yaml:"-"`
	NodeTaggedAddresses map[string]string
	NodeMeta            map[string]string
	ServiceMeta         map[string]string
	Address             string
	// ServiceTaggedAddresses are the instance's own tagged addresses.
	ServiceTaggedAddresses map[string]ServiceAddress
	ID                     string
	Name                   string
	Tags                   ServiceTags
	Checks                 []*HealthCheck
	Status                 string
	Port                   int
	Weights                Weights
	Namespace              string `json:"-" yaml:"-"`
	Partition              string `json:"-" yaml:"-"`
}

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

// CatalogService is one service name with the union of its instances' tags,
// the element of what `services` returns.
type CatalogService struct {
	Name string
	Tags ServiceTags
}

// KeyPair is one KV entry. Key is relative to the prefix of the query that
// returned it; Path is the full key.
type KeyPair struct {
	Path        string
	Key         string
	Value       string
	Exists      bool `json:"-" yaml:"-"`
	CreateIndex uint64
	ModifyIndex uint64
	LockIndex   uint64
	Flags       uint64
	Session     string
}

// KVValue is the result of a kv.get query: the value and whether the key
// exists at all.
type KVValue struct {
	Value  string
	Exists bool
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

// NodeService is one service registered on a node.
type NodeService struct {
	ID                string
	Service           string
	Tags              ServiceTags
	Meta              map[string]string
	Port              int
	Address           string
	Namespace         string `json:"-" yaml:"-"`
	EnableTagOverride bool
}

// NodeServices is a node with the services registered on it, what `node`
// returns.
type NodeServices struct {
	Node     *Node
	Services []*NodeService
}

// CARoot is one Connect CA root certificate, the element of what `caRoots`
// returns.
type CARoot struct {
	ID          string
	Name        string
	RootCertPEM string
	Active      bool
	CreateIndex uint64
	ModifyIndex uint64
}

// LeafCert is a Connect leaf certificate, what `caLeaf` returns.
type LeafCert struct {
	SerialNumber  string
	CertPEM       string
	PrivateKeyPEM string
	Service       string
	ServiceURI    string
	ValidAfter    time.Time
	ValidBefore   time.Time
	CreateIndex   uint64
	ModifyIndex   uint64
}
