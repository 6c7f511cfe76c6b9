package detect

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// servicesDetector watches the service list, whose index moves on every
// registration, deregistration or change of a service instance. A new or
// removed name or a changed tag set names its service. Any other move of
// the index (an instance added, removed or changed under an existing name)
// cannot be attributed from the list: while there are fewer nodes than
// followers, a node sweep (nodeIndex) attributes it through the per-node
// indexes; otherwise every follower is probed.
type servicesDetector struct {
	d    *detectors
	last map[string][]string
}

func (s *servicesDetector) name() string { return "services" }

func (s *servicesDetector) poll(pctx context.Context, index uint64) (uint64, error) {
	// The poll's deadline bounds the long poll; node sweeps and baselines
	// bound each of their requests instead.
	ctx := s.d.ctx
	cur, last, err := s.d.Source.Services(pctx, index, Wait)
	if err != nil {
		return 0, fmt.Errorf("catalog services: %w", err)
	}
	prev := s.last
	s.last = cur
	if index == 0 || prev == nil || last < index {
		s.rebaseline(ctx)
		return last, nil
	}
	if last == index {
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
	s.d.bump(names...)
	if s.d.nodes.isReady() {
		err := s.attribute(ctx)
		if err == nil {
			return last, nil
		}
		s.d.Log.Debug("cannot attribute a registration by node; probing every follower", "error", err)
	}
	s.rebaseline(ctx)
	return last, nil
}

// attribute names the services a registration touched by sweeping the
// nodes, when node sweeps are worth it.
func (s *servicesDetector) attribute(ctx context.Context) error {
	n := s.d.nodes
	nodes, err := n.nodeNames(ctx)
	if err != nil {
		n.reset()
		return err
	}
	if !n.worthIt(len(nodes), len(s.last)) {
		n.reset()
		return fmt.Errorf("%d nodes: probing followers is cheaper", len(nodes))
	}
	s.d.Count.NodeSweeps.Add(1)
	unexplained, err := n.sweep(ctx, nodes, s.d.bump)
	if err == nil && unexplained {
		// The node states stay valid: marking every follower covers the
		// writes the sweep could not attribute.
		s.d.Count.Sweeps.Add(1)
		s.d.Tracker.BumpAll()
	}
	return err
}

// rebaseline marks every follower changed, after taking the node
// baselines when node sweeps are worth it.
func (s *servicesDetector) rebaseline(ctx context.Context) {
	defer s.d.Tracker.BumpAll()
	s.d.Count.Sweeps.Add(1)
	n := s.d.nodes
	n.reset()
	if nodes, err := n.nodeNames(ctx); err == nil && n.worthIt(len(nodes), len(s.last)) {
		if err := n.baseline(ctx, nodes); err != nil && s.d.ctx.Err() == nil { // stopping is no failure
			s.d.Log.Warn("cannot read the nodes' services; registrations make every follower probe", "error", err)
		}
	}
}

// nodesDetector watches the node list: a node's address or metadata is part
// of every instance on it.
type nodesDetector struct {
	d    *detectors
	last map[string]Node
}

func (n *nodesDetector) name() string { return "nodes" }

func (n *nodesDetector) poll(ctx context.Context, index uint64) (uint64, error) {
	list, last, err := n.d.Source.Nodes(ctx, index, Wait)
	if err != nil {
		return 0, fmt.Errorf("catalog nodes: %w", err)
	}
	cur := make(map[string]Node, len(list))
	for _, nd := range list {
		cur[nd.Node] = nd
	}
	prev := n.last
	n.last = cur
	if index == 0 || prev == nil || last < index {
		n.d.Tracker.BumpAll()
		return last, nil
	}
	var nodes []string
	for name := range union(prev, cur) {
		a, inA := prev[name]
		b, inB := cur[name]
		switch {
		case !inB && n.d.nodes.isReady():
			// its services are gone: the services detector's node sweep
			// names them
		case !inB:
			n.d.Tracker.BumpAll() // its services are gone and cannot be listed
			return last, nil
		case !inA:
			// a new node has no instances the services detector did not see
		case a.ID != b.ID || a.Address != b.Address || a.Datacenter != b.Datacenter ||
			!maps.Equal(a.TaggedAddresses, b.TaggedAddresses) || !maps.Equal(a.Meta, b.Meta):
			nodes = append(nodes, name)
		}
	}
	n.d.bumpNodes(ctx, nodes)
	return last, nil
}

// bumpNodes marks the services on the given nodes changed, or every service
// when a node's services cannot be listed.
func (d *detectors) bumpNodes(ctx context.Context, nodes []string) {
	type list struct {
		names []string
		found bool
	}
	for _, node := range slices.Compact(slices.Sorted(slices.Values(nodes))) {
		l, err := gate.Run(ctx, d.Reads, func(sctx context.Context) (list, error) {
			names, found, err := d.Source.NodeServiceNames(sctx, node)
			return list{names, found}, err
		})
		if err != nil || !l.found {
			d.Tracker.BumpAll()
			return
		}
		d.Tracker.Bump(l.names...)
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
