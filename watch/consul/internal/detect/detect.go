package detect

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul/internal/decode"
	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// Wait is how long Consul may hold a change detector's long poll.
const Wait = 60 * time.Second

// Source is what the detectors read from Consul; the adapter implements it
// over its HTTP client. Every read is bound to its context. The blocking
// reads take an index (0: answer at once) and how long Consul may hold
// them, and return the answer's index.
type Source interface {
	// HealthState reads /v1/health/state/:state and calls use with the
	// answer's index and body, which is valid only during the call.
	HealthState(ctx context.Context, state string, index uint64, wait time.Duration,
		use func(index uint64, body []byte) error) error
	// Services reads /v1/catalog/services: every service name and its tags.
	Services(ctx context.Context, index uint64, wait time.Duration) (map[string][]string, uint64, error)
	// Nodes reads /v1/catalog/nodes.
	Nodes(ctx context.Context, index uint64, wait time.Duration) ([]Node, uint64, error)
	// NodeNames lists the catalog's nodes, at once.
	NodeNames(ctx context.Context) ([]string, error)
	// NodeServiceNames returns the names of the services on node, as the
	// api client's Catalog().NodeServiceList reads them; found is false
	// when the answer holds no node.
	NodeServiceNames(ctx context.Context, node string) (names []string, found bool, err error)
	// NodeInstances reads /v1/catalog/node-services/:node: the node's
	// instances and the answer's index.
	NodeInstances(ctx context.Context, node string) (NodeInstances, uint64, error)
	// NodeIndex returns the index of /v1/catalog/node-services/:node,
	// asking for none of its instances.
	NodeIndex(ctx context.Context, node string) (uint64, error)
}

// Node is what the nodes detector compares of a node.
type Node struct {
	Node, ID, Address, Datacenter string
	TaggedAddresses, Meta         map[string]string
}

// NodeInstances is what a node sweep needs of a node's services.
type NodeInstances struct {
	Record    uint64 // the index of the node's own record's last write
	Instances []Instance
}

// Instance is what a node sweep needs of one service instance.
type Instance struct {
	ID, Service string
	ModifyIndex uint64
}

// Counters count what the detectors did. The zero value is ready.
type Counters struct {
	Attributed atomic.Int64 // changes attributed to services
	Sweeps     atomic.Int64 // unattributed changes, which marked every follower
	NodeSweeps atomic.Int64 // registrations attributed by probing every node's index
	NodeProbes atomic.Int64 // node index probes
}

// Config is what [Run] needs.
type Config struct {
	Source  Source
	Tracker *Tracker         // bumped on every attributed or unattributed change
	Reads   *gate.Gate       // the plain-read slots node reads take
	Intern  *decode.Interner // strings the decoded check lists share
	Count   *Counters
	// Followable returns how many followable queries were made, which
	// decides whether node sweeps are worth it.
	Followable func() int64
	Log        *slog.Logger
}

// Run runs the four change detectors until ctx ends, and waits for them.
func Run(ctx context.Context, cfg Config) {
	d := &detectors{Config: cfg, ctx: ctx}
	d.nodes = &nodeIndex{d: d}
	var wg sync.WaitGroup
	for _, p := range []poller{&healthDetector{d: d, state: "critical"}, &healthDetector{d: d, state: "warning"},
		&servicesDetector{d: d}, &nodesDetector{d: d}} {
		wg.Go(func() { d.loop(p) })
	}
	wg.Wait()
}

// detectors is what the four detectors share.
type detectors struct {
	Config
	ctx   context.Context // ends them
	nodes *nodeIndex
}

// poller is one blocking query over a whole table whose changes it
// attributes to services. poll reads with the given index (0: a baseline
// read) and returns the new index.
type poller interface {
	name() string
	poll(ctx context.Context, index uint64) (uint64, error)
}

// loop runs p until the detectors stop. After an error or an index going
// backwards it reads a new baseline, which marks every follower stale: a
// change between the last good answer and the baseline is unattributed.
func (d *detectors) loop(p poller) {
	var (
		index    uint64
		attempts int
	)
	for d.ctx.Err() == nil {
		ctx, cancel := context.WithTimeout(d.ctx, Wait+Wait/16+5*time.Second)
		next, err := p.poll(ctx, index)
		cancel()
		if d.ctx.Err() != nil {
			return
		}
		if err != nil {
			attempts++
			if attempts == 1 {
				d.Log.Warn("change detector failing; retrying", "detector", p.name(), "error", err)
			}
			index = 0
			_ = watch.Sleep(d.ctx, min(100*time.Millisecond<<min(attempts, 6), 5*time.Second))
			continue
		}
		attempts = 0
		if next < index {
			index = 0 // went backwards: read a new baseline
			continue
		}
		index = max(next, 1)
		_ = watch.Sleep(d.ctx, time.Millisecond) // at most ~1,000 polls a second
	}
}

// bump marks the named services changed and counts them as attributed.
func (d *detectors) bump(names ...string) {
	d.Tracker.Bump(names...)
	d.Count.Attributed.Add(int64(len(names)))
}

// healthDetector watches the checks in one state, critical or warning: two
// of them together see every check that is not passing. A check write that
// changes an instance's health moves a check into or out of one of these
// sets, or changes it there, and names its service; a node-level check names
// every service on its node. Consul answers from its index of checks by
// state, so a detector costs it only the checks that are not passing.
type healthDetector struct {
	d     *detectors
	state string
	body  []byte // the last answer, undecoded
	last  map[string]decode.CheckRef
}

func (h *healthDetector) name() string { return "health " + h.state }

// poll reads the checks in the detector's state. Both detectors wake on
// every check write anywhere, mostly to find their own set unchanged: an
// answer identical to the last one is not decoded at all, and a changed
// one only into the fields attribution compares (decode.CheckRef).
func (h *healthDetector) poll(ctx context.Context, index uint64) (uint64, error) {
	var (
		next     uint64
		baseline bool
		checks   []decode.CheckRef
		changed  bool
	)
	err := h.d.Source.HealthState(ctx, h.state, index, Wait, func(last uint64, body []byte) error {
		next = last
		baseline = index == 0 || h.last == nil || last < index
		if !baseline && bytes.Equal(body, h.body) {
			return nil
		}
		var err error
		if checks, err = decode.CheckRefs(body, h.d.Intern); err != nil {
			return err
		}
		h.body, changed = append(h.body[:0], body...), true
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
	prev := h.last
	h.last = cur
	if baseline {
		h.d.Tracker.BumpAll()
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
	h.d.bump(names...)
	h.d.bumpNodes(ctx, nodes)
	return next, nil
}

func sameCheck(a, b decode.CheckRef) bool {
	return a.Status == b.Status && a.Output == b.Output && a.Notes == b.Notes && a.Name == b.Name &&
		a.ServiceID == b.ServiceID && a.ServiceName == b.ServiceName && slices.Equal(a.ServiceTags, b.ServiceTags)
}
