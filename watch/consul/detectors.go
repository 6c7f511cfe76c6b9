package consul

import (
	"context"
	"net/url"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch/consul/internal/detect"
)

// startDetectors starts the change detectors once; Close stops them.
func (c *Client) startDetectors() {
	c.detectOnce.Do(func() {
		if c.viaClientAgent && !c.oneShot {
			c.log.Warn("more health queries than long-poll slots: starting the change detectors, "+
				"which cost Consul's servers about two RPCs per health change; to hold one streamed long poll "+
				"per query instead, raise the client agent's limits.http_max_conns_per_client (ctpl then uses "+
				"it less an eighth) or consul.max_conns", "long_poll_slots", c.budget.Long.Limit())
		} else {
			c.log.Debug("more health queries than long-poll slots: starting the change detectors",
				"long_poll_slots", c.budget.Long.Limit())
		}
		c.detecting.Store(true)
		cfg := detect.Config{Source: source{c}, Tracker: c.track, Reads: c.budget.Short, Intern: c.intern,
			Count: &c.detected, Followable: c.followable.Load, Log: c.log}
		c.wg.Go(func() { detect.Run(c.ctx, cfg) })
	})
}

// Close stops the change detectors and waits for them, and closes the
// idle connections. Queries are stopped by their own contexts.
func (c *Client) Close() {
	c.cancel()
	c.wg.Wait()
	c.idle.CloseIdleConnections()
}

// source is the change detectors' view of Consul (detect.Source): the
// client's reads of whole tables.
type source struct{ c *Client }

// blocking returns the options of a blocking read (index 0: at once).
func blocking(ctx context.Context, index uint64, wait time.Duration) *api.QueryOptions {
	return (&api.QueryOptions{WaitIndex: index, WaitTime: wait}).WithContext(ctx)
}

func at(ctx context.Context) *api.QueryOptions { return (&api.QueryOptions{}).WithContext(ctx) }

// HealthState reads the checks in state through the raw reader, so the
// detector can compare the body before decoding it.
func (s source) HealthState(ctx context.Context, state string, index uint64, wait time.Duration,
	use func(index uint64, body []byte) error) error {
	return s.c.readRaw(blocking(ctx, index, wait), "/v1/health/state/"+state, func(meta *api.QueryMeta, body []byte) error {
		return use(meta.LastIndex, body)
	})
}

func (s source) Services(ctx context.Context, index uint64, wait time.Duration) (map[string][]string, uint64, error) {
	m, meta, err := s.c.api.Catalog().Services(blocking(ctx, index, wait))
	if err != nil {
		return nil, 0, err
	}
	return m, meta.LastIndex, nil
}

func (s source) Nodes(ctx context.Context, index uint64, wait time.Duration) ([]detect.Node, uint64, error) {
	list, meta, err := s.c.api.Catalog().Nodes(blocking(ctx, index, wait))
	if err != nil {
		return nil, 0, err
	}
	out := make([]detect.Node, len(list))
	for i, n := range list {
		out[i] = detect.Node{Node: n.Node, ID: n.ID, Address: n.Address, Datacenter: n.Datacenter,
			TaggedAddresses: n.TaggedAddresses, Meta: n.Meta}
	}
	return out, meta.LastIndex, nil
}

func (s source) NodeNames(ctx context.Context) ([]string, error) {
	var out []struct{ Node string }
	if _, err := s.c.api.Raw().Query("/v1/catalog/nodes", &out, at(ctx)); err != nil {
		return nil, err
	}
	names := make([]string, len(out))
	for i, nd := range out {
		names[i] = nd.Node
	}
	return names, nil
}

func (s source) NodeServiceNames(ctx context.Context, node string) ([]string, bool, error) {
	list, _, err := s.c.api.Catalog().NodeServiceList(node, at(ctx))
	if err != nil || list == nil {
		return nil, false, err
	}
	names := make([]string, 0, len(list.Services))
	for _, sv := range list.Services {
		names = append(names, sv.Service)
	}
	return names, true, nil
}

// nodeList is the part of a /v1/catalog/node-services answer a node sweep
// needs.
type nodeList struct {
	Node     struct{ ModifyIndex uint64 }
	Services []detect.Instance
}

// matchNothing is a filter that keeps no instance of a node: the answer
// carries the node's index and no services.
const matchNothing = `Service == "" and Service != ""`

func (s source) NodeInstances(ctx context.Context, node string) (detect.NodeInstances, uint64, error) {
	var out nodeList
	meta, err := s.c.api.Raw().Query("/v1/catalog/node-services/"+url.PathEscape(node), &out, at(ctx))
	if err != nil {
		return detect.NodeInstances{}, 0, err
	}
	return detect.NodeInstances{Record: out.Node.ModifyIndex, Instances: out.Services}, meta.LastIndex, nil
}

func (s source) NodeIndex(ctx context.Context, node string) (uint64, error) {
	var out nodeList
	meta, err := s.c.api.Raw().Query("/v1/catalog/node-services/"+url.PathEscape(node), &out,
		(&api.QueryOptions{Filter: matchNothing}).WithContext(ctx))
	if err != nil {
		return 0, err
	}
	return meta.LastIndex, nil
}
