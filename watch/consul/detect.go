package consul

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul/internal/decode"
	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// detectWait is how long Consul may hold a change detector's long poll.
const detectWait = 60 * time.Second

// startDetectors starts the change detectors once; Close stops them.
func (c *Client) startDetectors() {
	c.detectOnce.Do(func() {
		if c.viaClientAgent {
			c.log.Warn("more health queries than long-poll slots: starting the change detectors, "+
				"which cost Consul's servers about two RPCs per health change; to hold one streamed long poll "+
				"per query instead, raise the client agent's limits.http_max_conns_per_client (ctpl then uses "+
				"it less an eighth) or consul.max_conns", "long_poll_slots", c.budget.Long.Limit())
		} else {
			c.log.Debug("more health queries than long-poll slots: starting the change detectors",
				"long_poll_slots", c.budget.Long.Limit())
		}
		c.nodes = &nodeIndex{c: c}
		for _, d := range []detector{&healthDetector{c: c, state: api.HealthCritical}, &healthDetector{c: c, state: api.HealthWarning},
			&servicesDetector{c: c}, &nodesDetector{c: c}} {
			c.wg.Go(func() { c.detect(d) })
		}
	})
}

// Close stops the change detectors and waits for them, and closes the
// idle connections. Queries are stopped by their own contexts.
func (c *Client) Close() {
	c.cancel()
	c.wg.Wait()
	c.idle.CloseIdleConnections()
}

// detector is one blocking query over a whole table whose changes it
// attributes to services. poll reads with the given index (0: a baseline
// read) and returns the new index.
type detector interface {
	name() string
	poll(ctx context.Context, index uint64) (uint64, error)
}

// detect runs d until the client closes. After an error or an index going
// backwards it reads a new baseline, which marks every follower stale: a
// change between the last good answer and the baseline is unattributed.
func (c *Client) detect(d detector) {
	var (
		index    uint64
		attempts int
	)
	for c.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(c.ctx, detectWait+detectWait/16+5*time.Second)
		next, err := d.poll(ctx, index)
		cancel()
		if c.ctx.Err() != nil {
			return
		}
		if err != nil {
			attempts++
			if attempts == 1 {
				c.log.Warn("change detector failing; retrying", "detector", d.name(), "error", err)
			}
			index = 0
			_ = watch.Sleep(c.ctx, min(100*time.Millisecond<<min(attempts, 6), 5*time.Second))
			continue
		}
		attempts = 0
		if next < index {
			index = 0 // went backwards: read a new baseline
			continue
		}
		index = max(next, 1)
		_ = watch.Sleep(c.ctx, time.Millisecond) // at most ~1,000 polls a second
	}
}

func (c *Client) detectOpts(ctx context.Context, index uint64) *api.QueryOptions {
	return (&api.QueryOptions{WaitIndex: index, WaitTime: detectWait}).WithContext(ctx)
}

// healthDetector watches the checks in one state, critical or warning: two
// of them together see every check that is not passing. A check write that
// changes an instance's health moves a check into or out of one of these
// sets, or changes it there, and names its service; a node-level check names
// every service on its node. Consul answers from its index of checks by
// state, so a detector costs it only the checks that are not passing.
type healthDetector struct {
	c     *Client
	state string
	body  []byte // the last answer, undecoded
	last  map[string]decode.CheckRef
}

func (d *healthDetector) name() string { return "health " + d.state }

// poll reads the checks in the detector's state. Both detectors wake on
// every check write anywhere, mostly to find their own set unchanged: an
// answer identical to the last one is not decoded at all, and a changed
// one only into the fields attribution compares (decode.CheckRef).
func (d *healthDetector) poll(ctx context.Context, index uint64) (uint64, error) {
	var (
		next     uint64
		baseline bool
		checks   []decode.CheckRef
		changed  bool
	)
	err := d.c.readRaw(d.c.detectOpts(ctx, index), "/v1/health/state/"+d.state, func(meta *api.QueryMeta, body []byte) error {
		next = meta.LastIndex
		baseline = index == 0 || d.last == nil || meta.LastIndex < index
		if !baseline && bytes.Equal(body, d.body) {
			return nil
		}
		var err error
		if checks, err = decode.CheckRefs(body, d.c.intern); err != nil {
			return err
		}
		d.body, changed = append(d.body[:0], body...), true
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("health state: %w", err)
	}
	if !changed {
		return next, nil
	}
	cur := make(map[string]decode.CheckRef, len(checks))
	for _, hc := range checks {
		cur[hc.Node+"\x00"+hc.CheckID] = hc
	}
	prev := d.last
	d.last = cur
	if baseline {
		d.c.track.bumpAll()
		return next, nil
	}
	var names, nodes []string
	for k := range union(prev, cur) {
		a, inA := prev[k]
		b, inB := cur[k]
		if inA && inB && sameCheck(a, b) {
			continue
		}
		for _, hc := range []decode.CheckRef{a, b} {
			switch {
			case hc.Node == "":
			case hc.ServiceName != "":
				names = append(names, hc.ServiceName)
			default:
				nodes = append(nodes, hc.Node)
			}
		}
	}
	d.c.track.bump(names...)
	d.c.count.attributed.Add(int64(len(names)))
	d.c.bumpNodes(ctx, nodes)
	return next, nil
}

func sameCheck(a, b decode.CheckRef) bool {
	return a.Status == b.Status && a.Output == b.Output && a.Notes == b.Notes && a.Name == b.Name &&
		a.ServiceID == b.ServiceID && a.ServiceName == b.ServiceName && slices.Equal(a.ServiceTags, b.ServiceTags)
}

// servicesDetector watches the service list, whose index moves on every
// registration, deregistration or change of a service instance. A new or
// removed name or a changed tag set names its service. Any other move of
// the index (an instance added, removed or changed under an existing name)
// cannot be attributed from the list: while there are fewer nodes than
// followers, a node sweep (nodeIndex) attributes it through the per-node
// indexes; otherwise every follower is probed.
type servicesDetector struct {
	c    *Client
	last map[string][]string
}

func (d *servicesDetector) name() string { return "services" }

func (d *servicesDetector) poll(pctx context.Context, index uint64) (uint64, error) {
	// The poll's deadline bounds the long poll; node sweeps and baselines
	// bound each of their requests instead.
	ctx := d.c.ctx
	cur, meta, err := d.c.api.Catalog().Services(d.c.detectOpts(pctx, index))
	if err != nil {
		return 0, fmt.Errorf("catalog services: %w", err)
	}
	prev := d.last
	d.last = cur
	if index == 0 || prev == nil || meta.LastIndex < index {
		d.rebaseline(ctx)
		return meta.LastIndex, nil
	}
	if meta.LastIndex == index {
		return index, nil
	}
	var names []string
	for name := range union(prev, cur) {
		a, inA := prev[name]
		b, inB := cur[name]
		if !inA || !inB || !sameSet(a, b) {
			names = append(names, name)
		}
	}
	d.bump(names...)
	if d.c.nodes.isReady() {
		err := d.attribute(ctx)
		if err == nil {
			return meta.LastIndex, nil
		}
		d.c.log.Debug("cannot attribute a registration by node; probing every follower", "error", err)
	}
	d.rebaseline(ctx)
	return meta.LastIndex, nil
}

func (d *servicesDetector) bump(names ...string) {
	d.c.track.bump(names...)
	d.c.count.attributed.Add(int64(len(names)))
}

// attribute names the services a registration touched by sweeping the
// nodes, when node sweeps are worth it.
func (d *servicesDetector) attribute(ctx context.Context) error {
	nodes, err := d.c.nodes.nodeNames(ctx)
	if err != nil {
		d.c.nodes.reset()
		return err
	}
	if !d.c.nodes.worthIt(len(nodes), len(d.last)) {
		d.c.nodes.reset()
		return fmt.Errorf("%d nodes: probing followers is cheaper", len(nodes))
	}
	d.c.count.nodeSweeps.Add(1)
	unexplained, err := d.c.nodes.sweep(ctx, nodes, d.bump)
	if err == nil && unexplained {
		// The node states stay valid: marking every follower covers the
		// writes the sweep could not attribute.
		d.c.count.sweeps.Add(1)
		d.c.track.bumpAll()
	}
	return err
}

// rebaseline marks every follower changed, after taking the node
// baselines when node sweeps are worth it.
func (d *servicesDetector) rebaseline(ctx context.Context) {
	defer d.c.track.bumpAll()
	d.c.count.sweeps.Add(1)
	d.c.nodes.reset()
	if nodes, err := d.c.nodes.nodeNames(ctx); err == nil && d.c.nodes.worthIt(len(nodes), len(d.last)) {
		if err := d.c.nodes.baseline(ctx, nodes); err != nil {
			d.c.log.Warn("cannot read the nodes' services; registrations make every follower probe", "error", err)
		}
	}
}

// nodesDetector watches the node list: a node's address or metadata is part
// of every instance on it.
type nodesDetector struct {
	c    *Client
	last map[string]api.Node
}

func (d *nodesDetector) name() string { return "nodes" }

func (d *nodesDetector) poll(ctx context.Context, index uint64) (uint64, error) {
	list, meta, err := d.c.api.Catalog().Nodes(d.c.detectOpts(ctx, index))
	if err != nil {
		return 0, fmt.Errorf("catalog nodes: %w", err)
	}
	cur := make(map[string]api.Node, len(list))
	for _, n := range list {
		n.CreateIndex, n.ModifyIndex = 0, 0
		cur[n.Node] = *n
	}
	prev := d.last
	d.last = cur
	if index == 0 || prev == nil || meta.LastIndex < index {
		d.c.track.bumpAll()
		return meta.LastIndex, nil
	}
	var nodes []string
	for name := range union(prev, cur) {
		a, inA := prev[name]
		b, inB := cur[name]
		switch {
		case !inB && d.c.nodes.isReady():
			// its services are gone: the services detector's node sweep
			// names them
		case !inB:
			d.c.track.bumpAll() // its services are gone and cannot be listed
			return meta.LastIndex, nil
		case !inA:
			// a new node has no instances the services detector did not see
		case a.ID != b.ID || a.Address != b.Address || a.Datacenter != b.Datacenter ||
			!maps.Equal(a.TaggedAddresses, b.TaggedAddresses) || !maps.Equal(a.Meta, b.Meta):
			nodes = append(nodes, name)
		}
	}
	d.c.bumpNodes(ctx, nodes)
	return meta.LastIndex, nil
}

// bumpNodes marks the services on the given nodes changed, or every service
// when a node's services cannot be listed.
func (c *Client) bumpNodes(ctx context.Context, nodes []string) {
	for _, node := range slices.Compact(slices.Sorted(slices.Values(nodes))) {
		list, err := gate.Run(ctx, c.budget.Short, func(sctx context.Context) (*api.CatalogNodeServiceList, error) {
			l, _, err := c.api.Catalog().NodeServiceList(node, (&api.QueryOptions{}).WithContext(sctx))
			return l, err
		})
		if err != nil || list == nil {
			c.track.bumpAll()
			return
		}
		for _, s := range list.Services {
			c.track.bump(s.Service)
		}
	}
}

func union[V any](a, b map[string]V) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func sameSet(a, b []string) bool {
	return slices.Equal(slices.Compact(slices.Sorted(slices.Values(a))), slices.Compact(slices.Sorted(slices.Values(b))))
}
