package watch

import (
	"maps"
	"time"
)

// QueryState is how fresh one query's data is: when a request last
// succeeded and, while it fails, the error and since when.
type QueryState struct {
	// LastOK is when a request of the query last succeeded, whether or not
	// the data changed; zero before the first success.
	LastOK time.Time
	// Err is the error of the last request, nil when it succeeded.
	Err error
	// ErrSince is when the query started failing; zero while it succeeds.
	ErrSince time.Time
	// Warning is the warning of the last successful answer, if any (see
	// [Result.Warning]); it is kept while the query fails.
	Warning string
	// DC is the datacenter the query names ([Spec.DC]); empty for the
	// agent's own.
	DC string
}

// Freshness returns the state of every running query, keyed by the
// canonical string of its [Spec]. It is safe to call from any goroutine; the
// map is a copy.
func (w *Watcher) Freshness() map[string]QueryState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.fresh)
}

// markOK records a successful request of key and its answer's warning.
func (w *Watcher) markOK(key string, at time.Time, warning string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.running[key]; ok {
		w.fresh[key] = QueryState{LastOK: at, Warning: warning, DC: w.fresh[key].DC}
	}
}

// markErr records a failed request of key.
func (w *Watcher) markErr(key string, err error, at time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.running[key]; !ok {
		return
	}
	st := w.fresh[key]
	if st.Err == nil {
		st.ErrSince = at
	}
	st.Err = err
	w.fresh[key] = st
}
