package consul

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul/internal/decode"
)

// healthService reads /v1/health/service/:name. Without a status filter only
// passing instances are asked for, so Consul filters them.
func (c *Client) healthService(spec watch.Spec) watch.QueryFunc {
	return c.health(spec, "/v1/health/service/")
}

// healthConnect reads /v1/health/connect/:name: the instances that can take
// Connect traffic (proxies and native services).
func (c *Client) healthConnect(spec watch.Spec) watch.QueryFunc {
	return c.health(spec, "/v1/health/connect/")
}

// health reads a health endpoint with the request the api client's
// Health().Service or Connect would send. The body is decoded by
// decode.Health, and not at all when it is the same as the last one: the
// query's previous records are answered again.
func (c *Client) health(spec watch.Spec, endpoint string) watch.QueryFunc {
	passingOnly := len(spec.Status) == 0
	path := endpoint + spec.Name
	extra := func(params url.Values) {
		if spec.Tag != "" {
			params.Add("tag", spec.Tag)
		}
		if passingOnly {
			params.Set(api.HealthPassing, "1")
		}
		if pastView(spec) {
			params.Set("merge-central-config", "")
		}
	}
	var (
		last    decode.Memo[[]*watch.HealthService]
		mu      sync.Mutex
		entries decode.Entries // the last answer's records, by entry
		empty   emptyView
	)
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		out, ans, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) ([]*watch.HealthService, *api.QueryMeta, error) {
			return rawRead(c, o, path, extra, &last, func(body []byte) ([]*watch.HealthService, error) {
				mu.Lock()
				defer mu.Unlock()
				return c.healthRecords(spec, passingOnly, body, &entries)
			})
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("health service %q: %w", spec.Name, err)
		}
		if c.fromView(spec) {
			ans.filtered = empty.filtered(len(out), func() bool { return c.askFiltered(ctx, spec, path, extra) })
		}
		return c.result(spec, out, ans), nil
	}
}

// healthRecords decodes a health answer and keeps the instances the query
// asks for, screened and sorted.
func (c *Client) healthRecords(spec watch.Spec, passingOnly bool, body []byte, prev *decode.Entries) ([]*watch.HealthService, error) {
	all, err := decode.Health(body, c.intern, prev)
	if err != nil {
		return nil, err
	}
	sc := c.screen(spec)
	out := all[:0]
	for _, hs := range all {
		if (!passingOnly && !acceptStatus(spec.Status, hs.Status)) || !sc.wellFormed(hs) || !sc.HealthTrusted(hs) {
			continue
		}
		out = append(out, hs)
	}
	clear(all[len(out):])
	if sc.Err != nil {
		return nil, sc.Err
	}
	if spec.Near == "" {
		watch.SortHealthServices(out)
	}
	return out, nil
}

func acceptStatus(filter []string, status string) bool {
	return slices.Contains(filter, watch.StatusAny) || slices.Contains(filter, status)
}

// catalogServices reads /v1/catalog/services, sorted by name. An unchanged
// body is not decoded again.
func (c *Client) catalogServices(spec watch.Spec) watch.QueryFunc {
	var last decode.Memo[[]*watch.CatalogService]
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		out, ans, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) ([]*watch.CatalogService, *api.QueryMeta, error) {
			return rawRead(c, o, "/v1/catalog/services", nil, &last, func(body []byte) ([]*watch.CatalogService, error) {
				m, err := decode.ServiceTags(body, c.intern)
				if err != nil {
					return nil, err
				}
				return catalogServiceRecords(c.screen(spec), m)
			})
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("catalog services: %w", err)
		}
		return c.result(spec, out, ans), nil
	}
}

// catalogServiceRecords converts the service list, sorted by name.
func catalogServiceRecords(sc *screen, m map[string][]string) ([]*watch.CatalogService, error) {
	out := make([]*watch.CatalogService, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		if sc.OK("service", name) {
			out = append(out, &watch.CatalogService{Name: name, Tags: decode.SortedTags(sc.Keep("tag", m[name]))})
		}
	}
	if sc.Err != nil {
		return nil, sc.Err
	}
	return out, nil
}

// catalogNodes reads /v1/catalog/nodes, sorted by name unless near is set.
func (c *Client) catalogNodes(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		nodes, ans, err := read(c, ctx, spec, fo, c.api.Catalog().Nodes)
		if err != nil {
			return watch.Result{}, fmt.Errorf("catalog nodes: %w", err)
		}
		sc := c.screen(spec)
		out := make([]*watch.Node, 0, len(nodes))
		for _, n := range nodes {
			if wn := node(n); sc.NodeTrusted(wn) {
				out = append(out, wn)
			}
		}
		if sc.Err != nil {
			return watch.Result{}, fmt.Errorf("catalog nodes: %w", sc.Err)
		}
		if spec.Near == "" {
			slices.SortStableFunc(out, func(a, b *watch.Node) int {
				return cmp.Or(strings.Compare(a.Node, b.Node), strings.Compare(a.ID, b.ID))
			})
		}
		return c.result(spec, out, ans), nil
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
		cn, ans, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) (*api.CatalogNode, *api.QueryMeta, error) {
			return c.api.Catalog().Node(name, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("catalog node %q: %w", name, err)
		}
		sc := c.screen(spec)
		ns := nodeServices(cn, sc)
		if sc.Err != nil {
			return watch.Result{}, fmt.Errorf("catalog node %q: %w", name, sc.Err)
		}
		return c.result(spec, ns, ans), nil
	}
}

func nodeServices(cn *api.CatalogNode, sc *screen) *watch.NodeServices {
	if cn == nil || cn.Node == nil || !sc.NodeTrusted(node(cn.Node)) {
		return nil
	}
	out := &watch.NodeServices{Node: node(cn.Node), Services: make([]*watch.NodeService, 0, len(cn.Services))}
	for _, s := range cn.Services {
		ns := &watch.NodeService{
			ID: s.ID, Service: s.Service, Tags: decode.SortedTags(s.Tags), Meta: s.Meta, Port: s.Port,
			Address: s.Address, EnableTagOverride: s.EnableTagOverride,
		}
		if sc.NodeServiceTrusted(ns) {
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
		pair, ans, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) (*api.KVPair, *api.QueryMeta, error) {
			return c.api.KV().Get(spec.Name, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("kv get %q: %w", spec.Name, err)
		}
		if pair == nil {
			return c.result(spec, watch.KVValue{}, ans), nil
		}
		return c.result(spec, watch.KVValue{Value: string(pair.Value), Exists: true}, ans), nil
	}
}

// kvList reads every key below a prefix; Key is the path relative to it.
func (c *Client) kvList(spec watch.Spec) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		pairs, ans, err := read(c, ctx, spec, fo, func(o *api.QueryOptions) (api.KVPairs, *api.QueryMeta, error) {
			return c.api.KV().List(spec.Name, o)
		})
		if err != nil {
			return watch.Result{}, fmt.Errorf("kv list %q: %w", spec.Name, err)
		}
		sc := c.screen(spec)
		out := make([]*watch.KeyPair, 0, len(pairs))
		for _, p := range pairs {
			key := strings.TrimLeft(strings.TrimPrefix(p.Key, spec.Name), "/")
			if key == "" || !sc.OK("key", p.Key) {
				continue
			}
			out = append(out, &watch.KeyPair{
				Path: p.Key, Key: key, Value: string(p.Value),
				CreateIndex: p.CreateIndex, ModifyIndex: p.ModifyIndex, LockIndex: p.LockIndex,
				Flags: p.Flags, Session: p.Session,
			})
		}
		if sc.Err != nil {
			return watch.Result{}, fmt.Errorf("kv list %q: %w", spec.Name, sc.Err)
		}
		return c.result(spec, out, ans), nil
	}
}
