package watch

import (
	"context"
	"time"
)

// A datacenter that comes back — one of its queries recovers from errors,
// sees its index go backwards, as when its servers were rebuilt from
// nothing, or answers while another of its queries has started failing —
// may answer its queries one by one, over a whole blocking wait: a query
// blocked with an index from before holds it until the new datacenter's
// index passes it, and one failing waits out its backoff. A query in
// flight when the servers went away may even never fail: Consul retries
// it on the rebuilt servers, and it answers their data with an index that
// need not go backwards. So, for queries naming a datacenter, the first
// such sign cuts short every other query of that datacenter, blocked or
// waiting out a backoff, which reads afresh (a plain read) and sends what
// it reads even when unchanged, with Update.Reread set: within
// milliseconds the consumer has a fresh answer of each, and can tell when
// it has them all.

// rereadSpacing bounds how often one datacenter's queries are made to read
// afresh: each query of a datacenter coming back may recover in turn, and
// one round of re-reads covers them all.
const rereadSpacing = time.Second

// dcRereads holds, for each running query naming a datacenter, the context
// that ends when its datacenter comes back. Guarded by Watcher.mu.
type dcRereads struct {
	byKey map[string]*reread
	last  map[string]time.Time // per datacenter: the last round of re-reads
	// down holds the datacenters one of whose queries started failing since
	// their last round of re-reads: an answer of another of their queries
	// is a sign that they are back.
	down map[string]bool
}

type reread struct {
	dc     string
	ctx    context.Context
	cancel context.CancelFunc
}

// watch registers key, a query of datacenter dc ("" registers nothing: the
// agent's own datacenter is not re-read).
func (d *dcRereads) watch(parent context.Context, key, dc string) {
	if dc == "" {
		return
	}
	if d.byKey == nil {
		d.byKey, d.last, d.down = map[string]*reread{}, map[string]time.Time{}, map[string]bool{}
	}
	ctx, cancel := context.WithCancel(parent)
	d.byKey[key] = &reread{dc: dc, ctx: ctx, cancel: cancel}
}

func (d *dcRereads) forget(key string) {
	if r := d.byKey[key]; r != nil {
		r.cancel()
		delete(d.byKey, key)
	}
}

// rereadEpoch returns the context that ends when key's datacenter comes
// back; one that never ends for a query of the agent's own datacenter.
func (w *Watcher) rereadEpoch(key string) context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r := w.dcs.byKey[key]; r != nil {
		return r.ctx
	}
	return context.Background()
}

// renewReread gives key a new context once it has read afresh.
func (w *Watcher) renewReread(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r := w.dcs.byKey[key]; r != nil && r.ctx.Err() != nil {
		w.dcs.watch(w.ctx, key, r.dc)
	}
}

// datacenterDown notes that key, which answered before and has just
// started failing for a reason other than a refusal, may be one of a
// datacenter's queries gone down with it.
func (w *Watcher) datacenterDown(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r := w.dcs.byKey[key]; r != nil {
		w.dcs.down[r.dc] = true
	}
}

// datacenterBack is told of every answer of key; sign says it recovered or
// saw its index go backwards. When key names a datacenter and either that
// is so or another query of that datacenter started failing since the last
// round, it makes every other query of the datacenter read afresh, at most
// once per rereadSpacing, and reports true: key's own answer is then sent
// as a re-read.
func (w *Watcher) datacenterBack(key string, sign bool) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.dcs.byKey[key]
	if r == nil || !sign && !w.dcs.down[r.dc] {
		return false
	}
	now := time.Now()
	if now.Sub(w.dcs.last[r.dc]) < rereadSpacing {
		return true
	}
	w.dcs.last[r.dc] = now
	delete(w.dcs.down, r.dc)
	n := 0
	for k, o := range w.dcs.byKey {
		if k != key && o.dc == r.dc {
			o.cancel()
			n++
		}
	}
	w.opts.Logger.Info("datacenter came back: its other queries read afresh", "datacenter", r.dc, "query", key, "queries", n)
	return true
}
