package watch_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// BenchmarkStoreApply stores a 1,000-instance health answer, as the agent
// loop does for every update.
func BenchmarkStoreApply(b *testing.B) {
	value := make([]*watch.HealthService, 1000)
	for i := range value {
		value[i] = &watch.HealthService{Node: fmt.Sprintf("node%04d", i), Name: "web", ID: fmt.Sprintf("web-%d", i), Port: 8080}
	}
	s := watch.NewStore()
	for i := range 1000 {
		s.Apply(watch.Update{Key: fmt.Sprintf("health.service(svc%d)", i), Value: value, Index: 1, At: time.Now()})
	}
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		i++
		if !s.Apply(watch.Update{Key: "health.service(svc500)", Value: value, Index: i, At: time.Now()}) {
			b.Fatal("not applied")
		}
	}
}
