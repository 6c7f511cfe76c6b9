package consul

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
)

// healthService reads /v1/health/service/:name. Without a status filter only
// passing instances are asked for, so Consul filters them.
func (c *Client) healthService(spec watch.Spec) watch.QueryFunc {
	return c.health(spec, c.api.Health().Service)
}

// healthConnect reads /v1/health/connect/:name: the instances that can take
// Connect traffic (proxies and native services).
func (c *Client) healthConnect(spec watch.Spec) watch.QueryFunc {
	return c.health(spec, c.api.Health().Connect)
}

type healthFunc func(service, tag string, passingOnly bool, q *api.QueryOptions) ([]*api.ServiceEntry, *api.QueryMeta, error)

func (c *Client) health(spec watch.Spec, get healthFunc) watch.QueryFunc {
	passingOnly := len(spec.Status) == 0
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		entries, index, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) ([]*api.ServiceEntry, *api.QueryMeta, error) {
			return get(spec.Name, spec.Tag, passingOnly, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("health service %q: %w", spec.Name, err)
		}
		sc := c.screen(spec)
		out := make([]*watch.HealthService, 0, len(entries))
		for _, e := range entries {
			hs := healthService(e)
			if (!passingOnly && !acceptStatus(spec.Status, hs.Status)) || !sc.healthTrusted(hs) {
				continue
			}
			out = append(out, hs)
		}
		if sc.err != nil {
			return watch.Result{}, fmt.Errorf("health service %q: %w", spec.Name, sc.err)
		}
		if spec.Near == "" {
			watch.SortHealthServices(out)
		}
		return watch.Result{Value: out, Index: index}, nil
	}
}

func acceptStatus(filter []string, status string) bool {
	return slices.Contains(filter, watch.StatusAny) || slices.Contains(filter, status)
}

func healthService(e *api.ServiceEntry) *watch.HealthService {
	checks := make([]*watch.HealthCheck, 0, len(e.Checks))
	for _, c := range e.Checks {
		checks = append(checks, &watch.HealthCheck{
			Node: c.Node, CheckID: c.CheckID, Name: c.Name, Status: c.Status, Notes: c.Notes,
			Output: c.Output, ServiceID: c.ServiceID, ServiceName: c.ServiceName,
			ServiceTags: c.ServiceTags, Type: c.Type, Namespace: c.Namespace, Partition: c.Partition,
			ExposedPort: c.ExposedPort, PeerName: c.PeerName, Definition: checkDefinition(c.Definition),
			CreateIndex: c.CreateIndex, ModifyIndex: c.ModifyIndex,
		})
	}
	addr := e.Service.Address
	if addr == "" {
		addr = e.Node.Address
	}
	return &watch.HealthService{
		Node:                   e.Node.Node,
		NodeID:                 e.Node.ID,
		Kind:                   string(e.Service.Kind),
		NodeAddress:            e.Node.Address,
		NodeDatacenter:         e.Node.Datacenter,
		NodeTaggedAddresses:    e.Node.TaggedAddresses,
		NodeMeta:               e.Node.Meta,
		ServiceMeta:            e.Service.Meta,
		Address:                addr,
		ServiceTaggedAddresses: serviceAddresses(e.Service.TaggedAddresses),
		ID:                     e.Service.ID,
		Name:                   e.Service.Service,
		Tags:                   sortedTags(e.Service.Tags),
		Checks:                 checks,
		Status:                 watch.AggregateStatus(checks),
		Port:                   e.Service.Port,
		Weights:                watch.Weights{Passing: e.Service.Weights.Passing, Warning: e.Service.Weights.Warning},
		Namespace:              e.Service.Namespace,
		Partition:              e.Service.Partition,
	}
}

// checkDefinition converts how a check runs; each duration fills both its
// names.
func checkDefinition(d api.HealthCheckDefinition) watch.CheckDefinition {
	interval := cmp.Or(d.IntervalDuration, time.Duration(d.Interval))
	timeout := cmp.Or(d.TimeoutDuration, time.Duration(d.Timeout))
	deregister := cmp.Or(d.DeregisterCriticalServiceAfterDuration, time.Duration(d.DeregisterCriticalServiceAfter))
	return watch.CheckDefinition{
		HTTP: d.HTTP, Header: d.Header, Method: d.Method, Body: d.Body, TLSServerName: d.TLSServerName,
		TLSSkipVerify: d.TLSSkipVerify, TCP: d.TCP, TCPUseTLS: d.TCPUseTLS, UDP: d.UDP, GRPC: d.GRPC,
		OSService: d.OSService, GRPCUseTLS: d.GRPCUseTLS, SessionName: d.SessionName,
		IntervalDuration: interval, TimeoutDuration: timeout, DeregisterCriticalServiceAfterDuration: deregister,
		Interval: interval, Timeout: timeout, DeregisterCriticalServiceAfter: deregister,
	}
}

// serviceAddresses converts an instance's tagged addresses; nil stays nil.
func serviceAddresses(in map[string]api.ServiceAddress) map[string]watch.ServiceAddress {
	if in == nil {
		return nil
	}
	out := make(map[string]watch.ServiceAddress, len(in))
	for k, v := range in {
		out[k] = watch.ServiceAddress{Address: v.Address, Port: v.Port}
	}
	return out
}

// catalogServices reads /v1/catalog/services, sorted by name.
func (c *Client) catalogServices(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		m, index, err := read(c, ctx, spec, fo, c.api.Catalog().Services)
		if err != nil {
			return watch.Result{}, fmt.Errorf("catalog services: %w", err)
		}
		sc := c.screen(spec)
		out := make([]*watch.CatalogService, 0, len(m))
		for _, name := range slices.Sorted(maps.Keys(m)) {
			if sc.ok("service", name) {
				out = append(out, &watch.CatalogService{Name: name, Tags: sortedTags(sc.keep("tag", m[name]))})
			}
		}
		if sc.err != nil {
			return watch.Result{}, fmt.Errorf("catalog services: %w", sc.err)
		}
		return watch.Result{Value: out, Index: index}, nil
	}
}

// catalogNodes reads /v1/catalog/nodes, sorted by name unless near is set.
func (c *Client) catalogNodes(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		nodes, index, err := read(c, ctx, spec, fo, c.api.Catalog().Nodes)
		if err != nil {
			return watch.Result{}, fmt.Errorf("catalog nodes: %w", err)
		}
		sc := c.screen(spec)
		out := make([]*watch.Node, 0, len(nodes))
		for _, n := range nodes {
			if wn := node(n); sc.nodeTrusted(wn) {
				out = append(out, wn)
			}
		}
		if sc.err != nil {
			return watch.Result{}, fmt.Errorf("catalog nodes: %w", sc.err)
		}
		if spec.Near == "" {
			slices.SortStableFunc(out, func(a, b *watch.Node) int {
				return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.ID, b.ID))
			})
		}
		return watch.Result{Value: out, Index: index}, nil
	}
}

func node(n *api.Node) *watch.Node {
	return &watch.Node{
		ID: n.ID, Node: n.Node, Address: n.Address, Datacenter: n.Datacenter,
		TaggedAddresses: n.TaggedAddresses, Meta: n.Meta,
	}
}

// catalogNode reads /v1/catalog/node/:name; an empty name is the agent's
// own node. A node that does not exist yields a nil *NodeServices.
func (c *Client) catalogNode(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		name := spec.Name
		if name == "" {
			var err error
			if name, err = c.localNode(); err != nil {
				return watch.Result{}, fmt.Errorf("catalog node: %w", err)
			}
		}
		cn, index, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) (*api.CatalogNode, *api.QueryMeta, error) {
			return c.api.Catalog().Node(name, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("catalog node %q: %w", name, err)
		}
		sc := c.screen(spec)
		ns := nodeServices(cn, sc)
		if sc.err != nil {
			return watch.Result{}, fmt.Errorf("catalog node %q: %w", name, sc.err)
		}
		return watch.Result{Value: ns, Index: index}, nil
	}
}

func nodeServices(cn *api.CatalogNode, sc *screen) *watch.NodeServices {
	if cn == nil || cn.Node == nil || !sc.nodeTrusted(node(cn.Node)) {
		return nil
	}
	out := &watch.NodeServices{Node: node(cn.Node), Services: make([]*watch.NodeService, 0, len(cn.Services))}
	for _, s := range cn.Services {
		ns := &watch.NodeService{
			ID: s.ID, Service: s.Service, Tags: sortedTags(s.Tags), Meta: s.Meta, Port: s.Port,
			Address: s.Address, Namespace: s.Namespace, EnableTagOverride: s.EnableTagOverride,
		}
		if sc.nodeServiceTrusted(ns) {
			out.Services = append(out.Services, ns)
		}
	}
	slices.SortStableFunc(out.Services, func(a, b *watch.NodeService) int {
		return cmp.Or(strings.Compare(a.Service, b.Service), strings.Compare(a.ID, b.ID))
	})
	return out
}

// kvGet reads one key.
func (c *Client) kvGet(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		pair, index, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) (*api.KVPair, *api.QueryMeta, error) {
			return c.api.KV().Get(spec.Name, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("kv get %q: %w", spec.Name, err)
		}
		if pair == nil {
			return watch.Result{Value: watch.KVValue{}, Index: index}, nil
		}
		return watch.Result{Value: watch.KVValue{Value: string(pair.Value), Exists: true}, Index: index}, nil
	}
}

// kvList reads every key below a prefix; Key is the path relative to it.
func (c *Client) kvList(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		pairs, index, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
			return c.api.KV().List(spec.Name, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("kv list %q: %w", spec.Name, err)
		}
		sc := c.screen(spec)
		out := make([]*watch.KeyPair, 0, len(pairs))
		for _, p := range pairs {
			key := strings.TrimLeft(strings.TrimPrefix(p.Key, spec.Name), "/")
			if key == "" || !sc.ok("key", p.Key) {
				continue
			}
			out = append(out, &watch.KeyPair{
				Path: p.Key, Key: key, Value: string(p.Value), Exists: true,
				CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex, LockIndex: p.LockIndex,
				Flags: p.Flags, Session: p.Session,
			})
		}
		if sc.err != nil {
			return watch.Result{}, fmt.Errorf("kv list %q: %w", spec.Name, sc.err)
		}
		return watch.Result{Value: out, Index: index}, nil
	}
}

func sortedTags(tags []string) watch.ServiceTags {
	out := make(watch.ServiceTags, len(tags))
	copy(out, tags)
	slices.Sort(out)
	return out
}
