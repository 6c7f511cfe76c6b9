package watch

import (
	"context"
	"math/rand/v2"
	"reflect"
	"time"
)

// limiter is a token bucket that spaces the requests of one query.
type limiter struct {
	interval time.Duration
	burst    float64
	tokens   float64
	last     time.Time
}

// wait takes a token, sleeping until one is available or ctx ends.
func (l *limiter) wait(ctx context.Context) error {
	if l.interval <= 0 {
		return ctx.Err()
	}
	now := time.Now()
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+float64(now.Sub(l.last))/float64(l.interval))
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return ctx.Err()
	}
	d := time.Duration((1 - l.tokens) * float64(l.interval))
	l.tokens = 0
	l.last = now.Add(d)
	return Sleep(ctx, d)
}

// backoff returns a full-jitter delay for the given attempt (1-based): a
// random duration in [0, min(hi, lo·2^(attempt-1))], never below lo/2 so a
// failing query cannot spin.
func backoff(lo, hi time.Duration, attempt int) time.Duration {
	ceil := hi
	if attempt < 32 {
		ceil = min(hi, lo<<(attempt-1))
	}
	return max(lo/2, rand.N(ceil+1))
}

// Sleep waits for d or until ctx ends, returning ctx.Err() when it ended.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// equal reports whether two query values hold the same data.
func equal(a, b any) bool { return reflect.DeepEqual(a, b) }
