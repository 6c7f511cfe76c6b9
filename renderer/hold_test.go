package renderer

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// fullCounts and fullHeld take the counts and the held queries from every
// used query, as the agent did before it tracked changes: the reference
// instances and holdReason must agree with.
func fullCounts(tmpl *Template, store *watch.Store, used map[string]watch.Spec) map[string]int {
	var counts map[string]int
	for key, s := range used {
		if v, ok := store.Get(key); ok && tmpl.counted(s) {
			if counts == nil {
				counts = map[string]int{}
			}
			counts[key] = countOf(v)
		}
	}
	return counts
}

func fullHeld(t Template, before, now map[string]int, vanish bool) []string {
	keys := map[string]bool{}
	for key := range now {
		keys[key] = true
	}
	for key := range before {
		keys[key] = true
	}
	var held []string
	for _, key := range slices.Sorted(maps.Keys(keys)) {
		had, n := before[key], now[key]
		if _, ok := now[key]; !ok && !vanish {
			continue
		}
		if had == 0 || n >= had {
			continue
		}
		if (n == 0 && t.OnEmpty != OnEmptyAllow) || (t.MaxShrink > 0 && float64(had-n) > t.MaxShrink*float64(had)) {
			held = append(held, key)
		}
	}
	return held
}

// TestInstancesMatchAFullCount drives a job's instance tracking through
// random changes of values, used sets, accepted renders and loaded counts,
// and compares it after each render with a count of every used query.
func TestInstancesMatchAFullCount(t *testing.T) {
	for seed := range uint64(24) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			tmpl := Template{MaxShrink: []float64{0, 0.3, 0.5}[seed%3], HoldKVLists: seed%4 < 2}
			if seed%2 == 1 {
				tmpl.OnEmpty = OnEmptyAllow
			}
			vanish := seed%8 < 4
			var keys []string
			var specs []watch.Spec
			for i := range 10 {
				s, _ := watch.ParseService(fmt.Sprintf("svc%d", i))
				switch i {
				case 7:
					s = watch.Spec{Kind: watch.KindKVGet, Name: "k"}
				case 8:
					s = watch.Spec{Kind: watch.KindKVList, Name: "p"}
				case 9:
					s = watch.Spec{Kind: watch.KindCatalogServices, DC: "dc2"}
				}
				specs, keys = append(specs, s), append(keys, s.String())
			}
			store := watch.NewStore()
			j := &job{t: tmpl, used: map[string]watch.Spec{}}
			for step := range 400 {
				switch op := rng.IntN(10); {
				case op < 5: // a value changes
					i := rng.IntN(len(keys))
					store.Apply(watch.Update{Key: keys[i], Value: valueOf(specs[i].Kind, rng.IntN(6))})
					j.touch(keys[i], time.Now())
				case op == 5: // the used set changes
					var used []watch.Spec
					for i, s := range specs {
						if rng.IntN(3) > 0 || i == 0 {
							used = append(used, s)
						}
					}
					j.setUsed(used)
				case op == 6 && rng.IntN(4) == 0: // counts loaded from disk
					j.counts = map[string]int{keys[rng.IntN(len(keys))]: rng.IntN(6)}
					j.inst.invalidate()
				case op == 6: // a query no template uses forgotten
					if key := keys[rng.IntN(len(keys))]; j.used[key].Kind == "" {
						store.Delete(key)
					}
				default: // a render
					want := fullCounts(&tmpl, store, j.used)
					wantHeld := fullHeld(tmpl, j.counts, want, vanish)
					j.inst.update(&tmpl, store, j.used, j.counts)
					if !maps.Equal(j.inst.cur, want) && (len(want) > 0 || len(j.inst.cur) > 0) {
						t.Fatalf("step %d: counts %v, want %v", step, j.inst.cur, want)
					}
					h := holdReason(tmpl, j.counts, &j.inst, j.used, vanish)
					if !slices.Equal(h.keys, wantHeld) || (h.reason == "") != (len(wantHeld) == 0) {
						t.Fatalf("step %d: held %v (%q), want %v", step, h.keys, h.reason, wantHeld)
					}
					if len(wantHeld) == 0 && rng.IntN(4) > 0 {
						before := maps.Clone(j.counts)
						changed := j.inst.accept(&j.counts)
						if !maps.Equal(j.counts, want) && (len(want) > 0 || len(j.counts) > 0) {
							t.Fatalf("step %d: accepted %v, want %v", step, j.counts, want)
						}
						if changed == maps.Equal(before, want) {
							t.Fatalf("step %d: accept reported changed %v from %v to %v", step, changed, before, want)
						}
					}
				}
			}
		})
	}
}

// valueOf returns a value of kind with n entries.
func valueOf(kind watch.Kind, n int) any {
	switch kind {
	case watch.KindKVGet:
		return watch.KVValue{Value: "x", Exists: true}
	case watch.KindKVList:
		list := make([]*watch.KeyPair, n)
		for i := range list {
			list[i] = &watch.KeyPair{Key: fmt.Sprint(i)}
		}
		return list
	case watch.KindCatalogServices:
		list := []*watch.CatalogService{{Name: consulService}}
		for i := range n {
			list = append(list, &watch.CatalogService{Name: fmt.Sprint("s", i)})
		}
		return list
	}
	return health(n)
}

func health(n int) []*watch.HealthService {
	list := make([]*watch.HealthService, n)
	for i := range list {
		list[i] = &watch.HealthService{ID: fmt.Sprint(i)}
	}
	return list
}

func TestUsedChanged(t *testing.T) {
	a, _ := watch.ParseService("a")
	b, _ := watch.ParseService("b")
	warn := a
	warn.Status = []string{"warning"}
	list := []watch.Spec{a, b}
	tests := []struct {
		name       string
		prev, next []watch.Spec
		changed    bool // the Result's UsedChanged
		want       bool
	}{
		{name: "the same slice", prev: list, next: list, want: false},
		{name: "the template says so", prev: list, next: list, changed: true, want: true},
		{name: "first execution, nothing used", prev: nil, next: nil, want: false},
		{name: "a job new to the template", prev: nil, next: list, want: true},
		{name: "equal copies", prev: list, next: []watch.Spec{a, b}, want: false},
		{name: "another status", prev: list, next: []watch.Spec{warn, b}, want: true},
		{name: "another query", prev: list, next: []watch.Spec{a, a}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := usedChanged(tc.prev, tc.next, tc.changed); got != tc.want {
				t.Errorf("usedChanged = %v, want %v", got, tc.want)
			}
		})
	}
}
