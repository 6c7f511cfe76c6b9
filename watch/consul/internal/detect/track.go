package detect

import (
	"slices"
	"sync"

	"github.com/ctpl/ctpl/watch"
)

// Tracker keeps change generations: one per service name, bumped when a
// change detector attributes a change to that service, and one for
// everything, bumped when a change cannot be attributed. A follower records
// the generations before each read; the read is stale once either moved.
// It is safe for concurrent use.
type Tracker struct {
	mu    sync.Mutex
	all   gen
	names map[string]*gen
	seen  map[string]mark // query key → generations before its last read
	// While node sweeps attribute registrations, onNodes holds the nodes
	// followers' reads saw instances on since the last sweep, with those
	// instances' services: a node registered and removed again before a
	// sweep lists it is in no sweep's records, yet a follower may have
	// rendered its instances (see nodeIndex.sweep).
	sweeping bool
	onNodes  map[string][]string
}

// gen is a generation with a channel closed when it moves.
type gen struct {
	n  uint64
	ch chan struct{}
}

func (g *gen) bump() {
	g.n++
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
}

func (g *gen) wait() <-chan struct{} {
	if g.ch == nil {
		g.ch = make(chan struct{})
	}
	return g.ch
}

// mark is the generations a read started at.
type mark struct{ all, name uint64 }

// NewTracker returns a tracker that knows no reads.
func NewTracker() *Tracker {
	return &Tracker{names: make(map[string]*gen), seen: make(map[string]mark)}
}

func (t *Tracker) gen(name string) *gen {
	g := t.names[name]
	if g == nil {
		g = &gen{}
		t.names[name] = g
	}
	return g
}

// Record notes that a read of key (a query of service name) starts now.
func (t *Tracker) Record(key, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[key] = mark{all: t.all.n, name: t.gen(name).n}
}

// State says whether a query's last read may be stale: Named when its
// service changed (or it was never read), Swept when an unattributed change
// happened. NameCh closes at the service's next change; when neither is
// set, AllCh closes at the next unattributed one.
type State struct {
	Named, Swept bool
	NameCh       <-chan struct{}
	AllCh        <-chan struct{}
}

// Check returns the state of key's last read, key being a query of
// service name.
func (t *Tracker) Check(key, name string) State {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := t.seen[key]
	g := t.gen(name)
	if !ok {
		return State{Named: true, NameCh: g.wait()}
	}
	st := State{Named: m.name != g.n, Swept: m.all != t.all.n, NameCh: g.wait()}
	if !st.Named && !st.Swept {
		st.AllCh = t.all.wait()
	}
	return st
}

// Forget drops what is known of key: its next Check says Named.
func (t *Tracker) Forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.seen, key)
}

// Bump marks the named services changed.
func (t *Tracker) Bump(names ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range names {
		t.gen(n).bump()
	}
}

// BumpAll marks every service changed.
func (t *Tracker) BumpAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.all.bump()
}

// SawInstances notes the nodes of a follower's answer for service name,
// while node sweeps attribute registrations.
func (t *Tracker) SawInstances(name string, instances []*watch.HealthService) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.sweeping {
		return
	}
	for _, hs := range instances {
		if names := t.onNodes[hs.Node]; !slices.Contains(names, name) {
			t.onNodes[hs.Node] = append(names, name)
		}
	}
}

// sweeps turns the noting of followers' nodes on or off.
func (t *Tracker) sweeps(on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweeping, t.onNodes = on, nil
	if on {
		t.onNodes = make(map[string][]string)
	}
}

// takeNodes returns the nodes followers saw since the last call, and
// forgets them.
func (t *Tracker) takeNodes() map[string][]string {
	t.mu.Lock()
	defer t.mu.Unlock()
	seen := t.onNodes
	if t.sweeping {
		t.onNodes = make(map[string][]string)
	}
	return seen
}
