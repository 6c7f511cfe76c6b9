package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// Options tune a [Watcher]. The zero value of each field selects its default.
type Options struct {
	// Wait is how long the server may hold a blocking request (default 60s).
	Wait time.Duration
	// Grace is added to Wait + Wait/16 to make each request's client-side
	// deadline (default 5s).
	Grace time.Duration
	// MinInterval is the average spacing between two requests of one query
	// (default 10ms), enforced by a token bucket of Burst tokens (default 8).
	MinInterval time.Duration
	Burst       int
	// BackoffMin and BackoffMax bound the exponential backoff with full jitter
	// after a failed request (defaults 100ms and 5s).
	BackoffMin, BackoffMax time.Duration
	// Logger receives one line per change of a query's error state.
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Wait, 60*time.Second)
	def(&o.Grace, 5*time.Second)
	def(&o.MinInterval, 10*time.Millisecond)
	def(&o.BackoffMin, 100*time.Millisecond)
	def(&o.BackoffMax, 5*time.Second)
	if o.Burst <= 0 {
		o.Burst = 8
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// updateBuffer is how many updates may wait for the consumer. It is large
// so that a consumer that drains the queue before rendering (the agent loop)
// sees thousands of first answers in one pass at start-up instead of
// rendering once per small batch.
const updateBuffer = 8192

// Watcher runs one goroutine per distinct query and sends what changes on a
// single channel.
type Watcher struct {
	src     Source
	opts    Options
	ctx     context.Context
	cancel  context.CancelFunc
	updates chan Update
	wg      sync.WaitGroup

	mu       sync.Mutex
	running  map[string]run
	runs     uint64 // the last run number handed out
	fresh    map[string]QueryState
	epochCtx context.Context // ends at the next Refresh
	epochEnd context.CancelFunc
	retryCtx context.Context // ends when a failing query recovers
	retryEnd context.CancelFunc
	scout    string // the failing query that retries at least every scoutInterval
	dcs      dcRereads
}

// New returns a Watcher whose queries run until ctx is cancelled or Close is
// called.
func New(ctx context.Context, src Source, opts Options) *Watcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{
		src:     src,
		opts:    opts.withDefaults(),
		ctx:     ctx,
		cancel:  cancel,
		updates: make(chan Update, updateBuffer),
		running: make(map[string]run),
		fresh:   make(map[string]QueryState),
	}
	w.epochCtx, w.epochEnd = context.WithCancel(ctx)
	w.retryCtx, w.retryEnd = context.WithCancel(ctx)
	return w
}

// Updates returns the channel on which every query's changes arrive.
func (w *Watcher) Updates() <-chan Update { return w.updates }

// Watch starts watching spec unless a query with the same identity runs.
func (w *Watcher) Watch(spec Spec) error {
	key := spec.String()
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.running[key]; ok {
		return nil
	}
	if w.ctx.Err() != nil {
		return fmt.Errorf("watch %s: %w", key, w.ctx.Err())
	}
	q, err := w.src.Query(spec)
	if err != nil {
		return fmt.Errorf("watch %s: %w", key, err)
	}
	ctx, cancel := context.WithCancel(w.ctx)
	w.runs++
	r := run{cancel: cancel, id: w.runs}
	w.running[key] = r
	w.fresh[key] = QueryState{DC: spec.DC}
	w.dcs.watch(w.ctx, key, spec.DC)
	w.wg.Go(func() { w.loop(ctx, key, r.id, q) })
	return nil
}

// run is one watch of a query, from Watch to Forget.
type run struct {
	cancel context.CancelFunc
	id     uint64 // unique in the Watcher; carried by the run's updates
}

// Current reports whether u comes from the current watch of its query: an
// update still queued when its query was forgotten (and perhaps watched
// again since) is not, and must not be applied. An update that no Watcher
// sent is current.
func (w *Watcher) Current(u Update) bool {
	if u.run == 0 {
		return true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.running[u.Key]
	return ok && r.id == u.run
}

// Forget stops watching the query named key.
func (w *Watcher) Forget(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r, ok := w.running[key]; ok {
		r.cancel()
		delete(w.running, key)
		delete(w.fresh, key)
		w.dcs.forget(key)
	}
}

// Refresh makes every query read afresh at once: a request in flight is
// cut short, a backoff after an error ends, and the next request is a plain
// read (index 0). Call it when what the source answers changed without its
// index moving, such as a new ACL token, whose view of the registry differs.
func (w *Watcher) Refresh() {
	w.mu.Lock()
	end := w.epochEnd
	w.epochCtx, w.epochEnd = context.WithCancel(w.ctx)
	w.mu.Unlock()
	end()
}

// epoch returns the context that ends at the next Refresh.
func (w *Watcher) epoch() context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.epochCtx
}

// retried returns the context that ends when a failing query next
// recovers, together with the epoch.
func (w *Watcher) retried() (epoch, retry context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.epochCtx, w.retryCtx
}

// scoutInterval caps the backoff of the scout: of the failing queries, the
// one that failed first retries at least this often, and its recovery ends
// every other backoff (wakeRetries). A source that heals is thus noticed
// within about this long, however few queries fail and however long their
// own backoff has grown, while the many others keep their backoff.
const scoutInterval = time.Second

// backoff returns how long the failing query key waits before its next
// attempt: a full-jitter backoff, capped at scoutInterval for the scout.
func (w *Watcher) backoff(key string, attempts int) time.Duration {
	d := backoff(w.opts.BackoffMin, w.opts.BackoffMax, attempts)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.scout == "" {
		w.scout = key
	}
	if w.scout == key {
		d = min(d, max(scoutInterval, w.opts.BackoffMin/2))
	}
	return d
}

// unscout gives up the scout's role when key holds it: it succeeded or
// stopped.
func (w *Watcher) unscout(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.scout == key {
		w.scout = ""
	}
}

// wakeRetries ends the backoff of every failing query: one query's
// recovery says the source is back (the agent restarted, a leader was
// elected), and the others most likely failed for the same reason.
func (w *Watcher) wakeRetries() {
	w.mu.Lock()
	end := w.retryEnd
	w.retryCtx, w.retryEnd = context.WithCancel(w.ctx)
	w.mu.Unlock()
	end()
}

// Sync makes the watched set exactly specs: it starts what is missing and
// forgets the rest. It returns the keys it forgot.
func (w *Watcher) Sync(specs []Spec) (forgotten []string, err error) {
	want := make(map[string]bool, len(specs))
	for _, s := range specs {
		want[s.String()] = true
		if werr := w.Watch(s); werr != nil {
			err = werr
		}
	}
	for _, key := range w.Keys() {
		if !want[key] {
			w.Forget(key)
			forgotten = append(forgotten, key)
		}
	}
	return forgotten, err
}

// Keys returns the keys of the running queries, sorted.
func (w *Watcher) Keys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.running))
}

// Close stops every query and waits for their goroutines.
func (w *Watcher) Close() {
	w.cancel()
	w.wg.Wait()
}

// loop runs one query until ctx ends, following the blocking-query rules.
func (w *Watcher) loop(ctx context.Context, key string, id uint64, q Query) {
	defer w.unscout(key)
	if c, ok := q.(interface{ Close() }); ok {
		defer c.Close()
	}
	log := w.opts.Logger.With("query", key)
	lim := limiter{interval: w.opts.MinInterval, burst: float64(w.opts.Burst), tokens: float64(w.opts.Burst)}
	var (
		index    uint64
		last     any
		sent     bool
		failing  error
		attempts int
		warned   string
		reread   bool // the next answer is a read afresh because the query's datacenter came back
	)
	for {
		if lim.wait(ctx) != nil {
			return
		}
		epoch, own := w.epoch(), w.rereadEpoch(key)
		res, err := w.fetch(ctx, epoch, own, q, index)
		if ctx.Err() != nil {
			return
		}
		if epoch.Err() != nil { // Refresh: read afresh at once, whatever happened
			index, failing, attempts = 0, nil, 0
			continue
		}
		if own.Err() != nil { // its datacenter came back: read afresh and send the answer
			index, reread = 0, true
			w.renewReread(key)
			continue
		}
		if err != nil {
			if failing == nil && sent && !errors.Is(err, ErrRefused) {
				w.datacenterDown(key) // its data from before may be rendered with the datacenter's next answers
			}
			attempts++
			if !w.failed(ctx, log, key, id, err, failing == nil, attempts) {
				return
			}
			// After an error, read afresh: a restarted or restored server may
			// hold our index back for a whole wait.
			failing, index = err, 0
			continue
		}
		w.unscout(key)
		w.markOK(key, time.Now(), res.Warning)
		warned = logWarning(log, warned, res.Warning)
		recovered := failing != nil
		if recovered {
			log.Info("query recovered", "after_attempts", attempts)
			w.wakeRetries()
		}
		failing, attempts = nil, 0
		// Recovered, an index gone backwards (start over with a plain read) or an answer while a
		// sibling fails: its datacenter may be back, rebuilt; its other queries read afresh (reread.go).
		backwards := res.Index < index
		reread = w.datacenterBack(key, recovered || backwards) || reread
		if backwards {
			index = 0
			continue
		}
		force := recovered || reread
		if res.Index == index && sent && !force {
			continue
		}
		index = max(res.Index, 1)
		if sent && !force && equal(last, res.Value) {
			continue
		}
		last, sent = res.Value, true
		if !w.send(ctx, Update{Key: key, Value: res.Value, Index: index, At: time.Now(), Reread: reread, run: id}) {
			return
		}
		reread = false
	}
}

// failed records a failed read of key, reports the first failure of a run
// (first) and waits out the backoff of the attempts so far. It returns
// false when ctx ends during the wait.
func (w *Watcher) failed(ctx context.Context, log *slog.Logger, key string, id uint64, err error, first bool, attempts int) bool {
	w.markErr(key, err, time.Now())
	if first {
		log.Warn("query failing; retrying with backoff", "error", err)
		w.send(ctx, Update{Key: key, Err: err, At: time.Now(), run: id})
	}
	var d time.Duration
	if errors.Is(err, ErrRefused) { // says nothing of the source's health: never the scout
		w.unscout(key)
		d = backoff(w.opts.BackoffMin, w.opts.BackoffMax, attempts)
	} else {
		d = w.backoff(key, attempts)
	}
	return w.sleep(ctx, d, w.rereadEpoch(key)) == nil
}

// logWarning logs an answer's warning when it differs from the last one
// logged, and returns the warning now in force.
func logWarning(log *slog.Logger, last, now string) string {
	switch {
	case now == last:
	case now != "":
		log.Warn("query answered with a warning", "warning", now)
	default:
		log.Info("query warning cleared", "was", last)
	}
	return now
}

// fetch runs one request with its client-side deadline; it is also cut
// short when epoch ends (a Refresh) or own does (its datacenter came back).
func (w *Watcher) fetch(ctx, epoch, own context.Context, q Query, index uint64) (Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(epoch, cancel)()
	defer context.AfterFunc(own, cancel)()
	wait := w.opts.Wait
	return q.Fetch(ctx, FetchOptions{Index: index, Wait: wait, Timeout: wait + wait/16 + w.opts.Grace})
}

// sleep is a query's backoff: it waits for d, until ctx ends (returning its
// error), or until the next Refresh, recovery of another query or return of
// its datacenter (own ends) (returning nil).
func (w *Watcher) sleep(ctx context.Context, d time.Duration, own context.Context) error {
	epoch, retry := w.retried()
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(epoch, cancel)()
	defer context.AfterFunc(retry, cancel)()
	defer context.AfterFunc(own, cancel)()
	_ = Sleep(sctx, d)
	return ctx.Err()
}

func (w *Watcher) send(ctx context.Context, u Update) bool {
	select {
	case w.updates <- u:
		return true
	case <-ctx.Done():
		return false
	}
}
