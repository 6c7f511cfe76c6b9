package detect

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// nodeIndex attributes service-instance writes (an instance added to,
// removed from or changed under an existing service name) to services
// through Consul's per-node index: the index of /v1/catalog/node-services
// moves on every insert, update or delete of a service instance on that
// node (and on writes to the node itself). It keeps, per node, that index
// and the instances seen there; a sweep probes every node's index and
// re-reads only the nodes whose index moved, naming the services of the
// instances added, removed or modified since.
//
// A node sweep costs one small request per node instead of one per
// follower, so it is used while there are fewer nodes than followers.
type nodeIndex struct {
	d *detectors

	mu    sync.Mutex
	ready bool // every node has a baseline and every follower was marked after it
	nodes map[string]*nodeState
	names map[string]string // interned service names
}

// nodeState is what the last read of one node's services showed.
type nodeState struct {
	index     uint64
	instances map[string]string // instance ID → service name
	modified  []string          // services of instances modified since the node's previous read
	record    uint64            // the index of the node's own record's last write
}

// sweepWorkers is how many node reads a sweep runs at once.
const sweepWorkers = 16

// ProbeTimeout bounds a probe or a node read, which Consul answers at once.
const ProbeTimeout = 30 * time.Second

// reset forgets every baseline: the next attribution needs new ones.
func (n *nodeIndex) reset() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.ready, n.nodes = false, nil
	n.d.Tracker.sweeps(false)
}

// isReady reports whether sweeps can attribute changes.
func (n *nodeIndex) isReady() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.ready
}

// worthIt reports whether a node sweep is likely cheaper than probing
// every follower: fewer nodes than followable queries, or at least four
// services per node. The second holds at start-up, while a template that
// ranges over the services is still discovering them one query at a time:
// the count of followable queries is not yet what it will be, and taking
// the baselines later would cost one sweep of every follower.
func (n *nodeIndex) worthIt(nodes, services int) bool {
	return nodes > 0 && (int64(nodes) < n.d.Followable() || 4*nodes <= services)
}

// baseline reads every node's services. The caller marks every follower
// afterwards, which covers every write the baselines include; a sweep
// attributes every later one.
func (n *nodeIndex) baseline(ctx context.Context, nodes []string) error {
	states := make(map[string]*nodeState, len(nodes))
	var mu sync.Mutex
	// Baselines are background work: latency-critical re-reads go first.
	err := n.each(ctx, nodes, false, func(ctx context.Context, node string) error {
		st, err := n.read(ctx, node)
		if err == nil {
			mu.Lock()
			states[node] = st
			mu.Unlock()
		}
		return err
	})
	if err != nil {
		n.reset()
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, st := range states {
		st.modified = nil
	}
	n.nodes, n.ready = states, true
	n.d.Tracker.sweeps(true) // before the caller marks every follower
	return nil
}

// sweep probes the index of every node in nodes (a node list read after
// the change to attribute) and names, through bump, the services with an
// instance added, removed or modified since the node's last read, as soon
// as each node is read. Nodes gone from the list name every service they
// held. It reports unexplained when a node's index moved but its instances
// show no change: an instance added and removed again between two reads of
// its node (which a follower may have seen meanwhile through another read),
// or a write to the node itself; the caller must then mark every follower.
// On an error the baselines are dropped and the caller must mark every
// follower.
func (n *nodeIndex) sweep(ctx context.Context, nodes []string, bump func(...string)) (unexplained bool, err error) {
	n.mu.Lock()
	known := n.nodes
	n.mu.Unlock()
	if known == nil {
		return false, fmt.Errorf("node sweep: no baseline")
	}
	var (
		mu    sync.Mutex
		moved = make(map[string]*nodeState)
	)
	err = n.each(ctx, nodes, true, func(ctx context.Context, node string) error {
		old := known[node] // read-only here: the sweep is the only writer
		if old != nil {
			idx, err := n.probe(ctx, node)
			if err != nil || idx == old.index {
				return err
			}
		}
		st, err := n.read(ctx, node)
		if err != nil {
			return err
		}
		changed := diffNode(old, st)
		bump(changed...) // its followers need not wait for the other nodes
		mu.Lock()
		moved[node] = st
		// A write to the node's own record is the nodes detector's.
		unexplained = unexplained || old != nil && len(changed) == 0 && st.record <= old.index
		mu.Unlock()
		return nil
	})
	if err != nil {
		n.reset()
		return false, err
	}
	listed := make(map[string]bool, len(nodes))
	for _, node := range nodes {
		listed[node] = true
	}
	var names []string
	defer func() { bump(names...) }()
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.nodes == nil {
		return false, fmt.Errorf("node sweep: baselines dropped")
	}
	for node, st := range n.nodes {
		if !listed[node] {
			for _, name := range st.instances {
				names = append(names, name)
			}
			delete(n.nodes, node)
		}
	}
	for node, st := range moved {
		st.modified = nil
		n.nodes[node] = st
	}
	// A node a follower saw that is neither listed nor known came and went
	// between two sweeps' lists: its services' followers read afresh.
	for node, services := range n.d.Tracker.takeNodes() {
		if !listed[node] && n.nodes[node] == nil {
			names = append(names, services...)
		}
	}
	return unexplained, nil
}

// diffNode returns the services of the instances added, removed or
// modified between two reads of a node (old nil: a node not seen before).
func diffNode(old, cur *nodeState) []string {
	var names []string
	if old == nil {
		for _, name := range cur.instances {
			names = append(names, name)
		}
		return names
	}
	for id, name := range old.instances {
		if now, ok := cur.instances[id]; !ok || now != name {
			names = append(names, name)
		}
	}
	for id, name := range cur.instances {
		if _, ok := old.instances[id]; !ok {
			names = append(names, name)
		}
	}
	return append(names, cur.modified...)
}

// each runs fn for every node on at most sweepWorkers plain-read slots,
// urgent ones or not, and returns the first error.
func (n *nodeIndex) each(ctx context.Context, nodes []string, urgent bool, fn func(context.Context, string) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan string)
	errs := make(chan error, sweepWorkers)
	var wg sync.WaitGroup
	for range min(sweepWorkers, len(nodes)) {
		wg.Go(func() {
			for node := range work {
				_, err := gate.RunAs(ctx, n.d.Reads, urgent, nil, func(sctx context.Context) (struct{}, error) {
					return struct{}{}, fn(sctx, node)
				})
				if err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
	var err error
feed:
	for _, node := range nodes {
		select {
		case work <- node:
		case err = <-errs:
			break feed
		case <-ctx.Done():
			err = ctx.Err()
			break feed
		}
	}
	close(work)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

// probe returns a node's index without its services.
func (n *nodeIndex) probe(ctx context.Context, node string) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	index, err := n.d.Source.NodeIndex(ctx, node)
	if err != nil {
		return 0, fmt.Errorf("probe node %s: %w", node, err)
	}
	n.d.Count.NodeProbes.Add(1)
	return index, nil
}

// read reads a node's instances.
func (n *nodeIndex) read(ctx context.Context, node string) (*nodeState, error) {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	out, index, err := n.d.Source.NodeInstances(ctx, node)
	if err != nil {
		return nil, fmt.Errorf("read node %s: %w", node, err)
	}
	st := &nodeState{index: index, instances: make(map[string]string, len(out.Instances)), record: out.Record}
	n.mu.Lock()
	defer n.mu.Unlock()
	var prev *nodeState
	if n.nodes != nil {
		prev = n.nodes[node]
	}
	for _, s := range out.Instances {
		st.instances[s.ID] = n.intern(s.Service)
		if prev != nil && s.ModifyIndex > prev.index {
			st.modified = append(st.modified, st.instances[s.ID])
		}
	}
	return st, nil
}

// intern returns one shared copy of a service name; n.mu is held.
func (n *nodeIndex) intern(name string) string {
	if n.names == nil {
		n.names = make(map[string]string)
	}
	if s, ok := n.names[name]; ok {
		return s
	}
	n.names[name] = name
	return name
}

// nodeNames lists the catalog's nodes; read after a change, it holds
// every node that change could have touched and that still exists.
func (n *nodeIndex) nodeNames(ctx context.Context) ([]string, error) {
	// Filtered by ACLs, the list holds the nodes the token may read: an
	// instance on any other node is left out of every health answer too.
	names, err := gate.RunAs(ctx, n.d.Reads, true, nil, func(sctx context.Context) ([]string, error) {
		return n.d.Source.NodeNames(sctx)
	})
	if err != nil {
		return nil, fmt.Errorf("list nodes: %w", err)
	}
	return names, nil
}
