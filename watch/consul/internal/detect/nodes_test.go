package detect

import (
	"context"
	"slices"
	"testing"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// sweepSource answers node reads from a fixed catalog: node → instances,
// each node's index never moving.
type sweepSource struct {
	blockingSource
	catalog map[string][]Instance
}

func (s sweepSource) NodeIndex(context.Context, string) (uint64, error) { return 7, nil }

func (s sweepSource) NodeInstances(_ context.Context, node string) (NodeInstances, uint64, error) {
	return NodeInstances{Instances: s.catalog[node]}, 7, nil
}

// TestSweepNamesANodeOnlyAFollowerSaw: a node registered and removed again
// between two sweeps' node lists is in no sweep's records, but a follower
// read in between saw its instance; the sweep after must name that
// instance's service, or the follower keeps the removed instance.
func TestSweepNamesANodeOnlyAFollowerSaw(t *testing.T) {
	tests := []struct {
		name   string
		listed []string // the node list the sweep reads
		want   []string
	}{
		{name: "the node is gone from the list", listed: []string{"n1"}, want: []string{"web"}},
		{name: "the node is listed: the sweep reads it", listed: []string{"n1", "node9"}, want: []string{"web"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := sweepSource{catalog: map[string][]Instance{"n1": {{ID: "web-1", Service: "web"}}}}
			if slices.Contains(tc.listed, "node9") {
				src.catalog["node9"] = []Instance{{ID: "web-9", Service: "web"}}
			}
			tr := NewTracker()
			d := &detectors{Config: Config{Source: src, Tracker: tr, Reads: gate.New(4), Count: &Counters{},
				Followable: func() int64 { return 10 }}, ctx: t.Context()}
			n := &nodeIndex{d: d}
			if err := n.baseline(t.Context(), []string{"n1"}); err != nil {
				t.Fatal(err)
			}
			tr.SawInstances("web", []*watch.HealthService{{Node: "n1", ID: "web-1"}, {Node: "node9", ID: "web-9"}})
			var named []string
			if _, err := n.sweep(t.Context(), tc.listed, func(names ...string) { named = append(named, names...) }); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(named, "web") {
				t.Errorf("the sweep named %q, want web", named)
			}
		})
	}
}

// TestFollowersNodesNotedOnlyWhileSweeping: without node baselines no sweep
// runs, so nothing is kept of followers' nodes.
func TestFollowersNodesNotedOnlyWhileSweeping(t *testing.T) {
	tr := NewTracker()
	tr.SawInstances("web", []*watch.HealthService{{Node: "n1"}})
	if got := tr.takeNodes(); len(got) != 0 {
		t.Errorf("kept %v while no sweep runs", got)
	}
	tr.sweeps(true)
	tr.SawInstances("web", []*watch.HealthService{{Node: "n1"}, {Node: "n1"}})
	if got := tr.takeNodes(); !slices.Equal(got["n1"], []string{"web"}) {
		t.Errorf("noted %v, want n1: [web]", got)
	}
	if got := tr.takeNodes(); len(got) != 0 {
		t.Errorf("a second take returned %v: each sweep takes what was seen since the last", got)
	}
}
