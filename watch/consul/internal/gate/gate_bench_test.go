package gate

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// BenchmarkGateContended measures a release handing its slot to one of
// many waiters, as in a sweep of many followers queued for 16 slots.
func BenchmarkGateContended(b *testing.B) {
	for _, waiters := range []int{16, 1000} {
		b.Run(fmt.Sprint(waiters, " goroutines"), func(b *testing.B) {
			g := New(16)
			ctx := b.Context()
			work := make(chan struct{}, b.N)
			for range b.N {
				work <- struct{}{}
			}
			close(work)
			done := make(chan struct{})
			b.ResetTimer()
			for range waiters {
				go func() {
					defer func() { done <- struct{}{} }()
					for range work {
						_, h, err := g.Acquire(ctx)
						if err != nil {
							return
						}
						g.Release(h)
					}
				}()
			}
			for range waiters {
				<-done
			}
		})
	}
}

// BenchmarkGateSweep is one sweep: n followers queue at once for 16
// plain-read slots, each holding one for a 200 µs request in turn. The
// time per sweep is bounded below by n/16 × 200 µs; the rest is the cost
// of waiting.
func BenchmarkGateSweep(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n, " followers"), func(b *testing.B) {
			g := New(16)
			ctx := b.Context()
			for b.Loop() {
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						if _, h, err := g.Acquire(ctx); err == nil {
							time.Sleep(200 * time.Microsecond) // the request
							g.Release(h)
						}
					})
				}
				wg.Wait()
			}
		})
	}
}
