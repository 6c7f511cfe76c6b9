package consul

import (
	"fmt"
	"testing"
)

// BenchmarkGateContended measures a release handing its slot to one of
// many waiters, as in a sweep of many followers queued for 16 slots.
func BenchmarkGateContended(b *testing.B) {
	for _, waiters := range []int{16, 1000} {
		b.Run(fmt.Sprint(waiters, " goroutines"), func(b *testing.B) {
			g := newGate(16)
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
						_, h, err := g.acquire(ctx)
						if err != nil {
							return
						}
						g.release(h)
					}
				}()
			}
			for range waiters {
				<-done
			}
		})
	}
}
