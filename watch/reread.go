package watch

import (
	"context"
	"time"
)

// A datacenter that comes back — one of its queries recovers from errors,
// or sees its index go backwards, as when its servers were rebuilt from
// nothing — may answer its queries one by one, over a whole blocking wait:
// a query blocked with an index from before holds it until the new
// datacenter's index passes it. So, for queries naming a datacenter, the
// first such sign cuts short every other query of that datacenter, which
// reads afresh (a plain read) and sends what it reads even when unchanged,
// with Update.Reread set: within milliseconds the consumer has a fresh
// answer of each, and can tell when it has them all.

// rereadSpacing bounds how often one datacenter's queries are made to read
// afresh: each query of a datacenter coming back may recover in turn, and
// one round of re-reads covers them all.
const rereadSpacing = time.Second

// dcRereads holds, for each running query naming a datacenter, the context
// that ends when its datacenter comes back. Guarded by Watcher.mu.
type dcRereads struct {
	byKey map[string]*reread
	last  map[string]time.Time // per datacenter: the last round of re-reads
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
		d.byKey, d.last = map[string]*reread{}, map[string]time.Time{}
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

// datacenterBack makes every other query of key's datacenter read afresh,
// at most once per rereadSpacing, and reports whether key names a
// datacenter (its own answer is then sent as a re-read).
func (w *Watcher) datacenterBack(key string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.dcs.byKey[key]
	if r == nil {
		return false
	}
	now := time.Now()
	if now.Sub(w.dcs.last[r.dc]) < rereadSpacing {
		return true
	}
	w.dcs.last[r.dc] = now
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
