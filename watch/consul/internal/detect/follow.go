package detect

import (
	"context"
	"errors"
	"time"

	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// Follow answers a blocking read of key (a query of service name) without
// holding a connection: it waits until a detector says the service changed
// (or could have), then calls reread, until reread reports a change or an
// error, or the wait ends (changed false, no error). reread is told to
// probe first when only an unattributed change happened; named then closes
// when the service is named meanwhile, and a reread that gives way to it
// with gate.ErrAborted is run again at once.
func Follow[T any](ctx context.Context, t *Tracker, key, name string, wait time.Duration,
	reread func(probe bool, named <-chan struct{}) (T, bool, error)) (v T, changed bool, err error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		st := t.Check(key, name)
		if !st.Named && !st.Swept {
			select {
			case <-st.NameCh:
			case <-st.AllCh:
			case <-timer.C:
				return v, false, nil // no change within the wait
			case <-ctx.Done():
				return v, false, ctx.Err()
			}
			continue
		}
		res, changed, err := reread(!st.Named, st.NameCh)
		if errors.Is(err, gate.ErrAborted) {
			continue // named while queued for a probe: read at once instead
		}
		if err != nil || changed {
			return res, changed, err
		}
	}
}
