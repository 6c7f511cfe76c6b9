package watch_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

// TestStoreChanged checks Changed against a log of its own: from any Seq
// the Store still remembers, it lists exactly the keys applied or deleted
// since, in order; it remembers at least the last 1,024 changes; and it says
// so when it no longer remembers.
func TestStoreChanged(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s := watch.NewStore()
	type change struct {
		seq uint64
		key string
	}
	var log []change
	var marks []uint64
	for step := range 5000 {
		k := fmt.Sprintf("k%d", rng.IntN(40))
		before := s.Seq()
		switch rng.IntN(10) {
		case 0:
			s.Delete(k)
		case 1:
			s.Apply(watch.Update{Key: k, Err: fmt.Errorf("failing")}) // no new value
		default:
			s.Apply(watch.Update{Key: k, Value: step})
		}
		if s.Seq() != before {
			log = append(log, change{s.Seq(), k})
		}
		marks = append(marks, s.Seq())
	}
	forgotten := 0
	for _, since := range marks {
		keys, ok := s.Changed(since)
		i, _ := slices.BinarySearchFunc(log, since+1, func(c change, seq uint64) int { return int(c.seq) - int(seq) })
		if !ok {
			if len(log)-i <= 1024 {
				t.Fatalf("since %d: %d changes ago, forgotten", since, len(log)-i)
			}
			forgotten++
			continue
		}
		var want []string
		for _, c := range log[i:] {
			want = append(want, c.key)
		}
		if !slices.Equal(keys, want) {
			t.Fatalf("since %d: listed %v, want %v", since, keys, want)
		}
	}
	if forgotten == 0 {
		t.Fatal("nothing forgotten: the log grows without bound")
	}
	if _, ok := s.Changed(s.Seq() + 1); ok {
		t.Fatal("a Seq from the future is remembered")
	}
}
