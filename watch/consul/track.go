package consul

import "sync"

// tracker keeps change generations: one per service name, bumped when a
// change detector attributes a change to that service, and one for
// everything, bumped when a change cannot be attributed. A follower records
// the generations before each read; the read is stale once either moved.
type tracker struct {
	mu    sync.Mutex
	all   gen
	names map[string]*gen
	seen  map[string]mark // spec key → generations before its last read
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

func newTracker() *tracker {
	return &tracker{names: make(map[string]*gen), seen: make(map[string]mark)}
}

func (t *tracker) gen(name string) *gen {
	g := t.names[name]
	if g == nil {
		g = &gen{}
		t.names[name] = g
	}
	return g
}

// record notes that a read of key (a query of service name) starts now.
func (t *tracker) record(key, name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seen[key] = mark{all: t.all.n, name: t.gen(name).n}
}

// state says whether key's last read may be stale: named when its service
// changed, swept when an unattributed change happened. nameCh closes at the
// service's next change; when neither is set, allCh closes at the next
// unattributed one.
type state struct {
	named, swept bool
	nameCh       <-chan struct{}
	allCh        <-chan struct{}
}

func (t *tracker) check(key, name string) state {
	t.mu.Lock()
	defer t.mu.Unlock()
	m, ok := t.seen[key]
	g := t.gen(name)
	if !ok {
		return state{named: true, nameCh: g.wait()}
	}
	st := state{named: m.name != g.n, swept: m.all != t.all.n, nameCh: g.wait()}
	if !st.named && !st.swept {
		st.allCh = t.all.wait()
	}
	return st
}

// forget drops what is known of key.
func (t *tracker) forget(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.seen, key)
}

// bump marks the named services changed.
func (t *tracker) bump(names ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, n := range names {
		t.gen(n).bump()
	}
}

// bumpAll marks every service changed.
func (t *tracker) bumpAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.all.bump()
}
