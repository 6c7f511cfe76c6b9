package template_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch"
)

// registry is a randomly changing Consul: the source of truth the Store is
// fed from, as the watcher would after each change.
type registry struct {
	rng       *rand.Rand
	instances map[string][]instance // by service name
	kv        map[string]string
}

type instance struct {
	node, id, address, status string
	port                      int
	tags                      []string
	meta                      map[string]string
}

var (
	regTags     = []string{"http", "prod", "canary", "tcp", "v2"}
	regStatuses = []string{watch.StatusPassing, watch.StatusPassing, watch.StatusWarning, watch.StatusCritical}
)

func newRegistry(seed uint64) *registry {
	r := &registry{rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), instances: make(map[string][]instance), kv: make(map[string]string)}
	for range 12 {
		r.register()
	}
	for range 8 {
		r.editKV()
	}
	return r
}

func (r *registry) serviceName() string { return fmt.Sprintf("svc%02d", r.rng.IntN(16)) }

func (r *registry) someTags() []string {
	var tags []string
	for _, t := range regTags {
		if r.rng.IntN(2) == 0 {
			tags = append(tags, t)
		}
	}
	return tags
}

func (r *registry) register() {
	name := r.serviceName()
	n := r.rng.IntN(6)
	r.instances[name] = append(r.instances[name], instance{
		node: fmt.Sprintf("node%d", n), id: fmt.Sprintf("%s-%d", name, r.rng.IntN(1000)),
		address: fmt.Sprintf("10.0.%d.%d", n, r.rng.IntN(250)+1), port: 8000 + r.rng.IntN(100),
		status: regStatuses[r.rng.IntN(len(regStatuses))], tags: r.someTags(),
		meta: map[string]string{"weight": fmt.Sprint(r.rng.IntN(20))},
	})
}

// pick returns a registered service and one of its instances' indexes.
func (r *registry) pick() (string, int, bool) {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range r.instances {
			if !yield(n) {
				return
			}
		}
	})
	if len(names) == 0 {
		return "", 0, false
	}
	name := names[r.rng.IntN(len(names))]
	return name, r.rng.IntN(len(r.instances[name])), true
}

func (r *registry) editKV() {
	key := fmt.Sprintf("%s/%s", []string{"app", "app/sub", "cfg"}[r.rng.IntN(3)], []string{"a", "b", "c", "d"}[r.rng.IntN(4)])
	if r.rng.IntN(4) == 0 {
		delete(r.kv, key)
		return
	}
	r.kv[key] = fmt.Sprint(r.rng.IntN(5))
}

// change applies one random change.
func (r *registry) change() {
	name, i, ok := r.pick()
	switch op := r.rng.IntN(6); {
	case op == 0 || !ok:
		r.register()
	case op == 1:
		l := r.instances[name]
		r.instances[name] = slices.Delete(slices.Clone(l), i, i+1)
		if len(r.instances[name]) == 0 {
			delete(r.instances, name)
		}
	case op == 2:
		r.instances[name][i].status = regStatuses[r.rng.IntN(len(regStatuses))]
	case op == 3:
		r.instances[name][i].tags = r.someTags()
	case op == 4:
		r.instances[name][i].meta = map[string]string{"weight": fmt.Sprint(r.rng.IntN(20))}
	default:
		r.editKV()
	}
}

// value returns what Consul would answer to spec, and whether ctpl's model
// knows the kind.
func (r *registry) value(spec watch.Spec) (any, bool) {
	switch spec.Kind {
	case watch.KindCatalogServices:
		out := []*watch.CatalogService{}
		for _, name := range slices.Sorted(mapKeys(r.instances)) {
			var tags []string
			for _, in := range r.instances[name] {
				tags = append(tags, in.tags...)
			}
			slices.Sort(tags)
			out = append(out, &watch.CatalogService{Name: name, Tags: slices.Compact(tags)})
		}
		return out, true
	case watch.KindHealthService:
		out := []*watch.HealthService{}
		for _, in := range r.instances[spec.Name] {
			if (spec.Tag != "" && !slices.Contains(in.tags, spec.Tag)) ||
				(len(spec.Status) == 0 && in.status != watch.StatusPassing) ||
				(len(spec.Status) > 0 && !slices.Contains(spec.Status, watch.StatusAny) && !slices.Contains(spec.Status, in.status)) {
				continue
			}
			out = append(out, &watch.HealthService{
				Node: in.node, ID: in.id, Name: spec.Name, Address: in.address, Port: in.port,
				Status: in.status, Tags: slices.Clone(in.tags), ServiceMeta: in.meta,
			})
		}
		return out, true
	case watch.KindCatalogNodes:
		seen := map[string]bool{}
		for _, l := range r.instances {
			for _, in := range l {
				seen[in.node] = true
			}
		}
		out := []*watch.Node{}
		for _, n := range slices.Sorted(mapKeys(seen)) {
			out = append(out, &watch.Node{Node: n, Address: "10.0.0." + strings.TrimPrefix(n, "node")})
		}
		return out, true
	case watch.KindKVGet:
		v, ok := r.kv[spec.Name]
		return watch.KVValue{Value: v, Exists: ok}, true
	case watch.KindKVList:
		out := []*watch.KeyPair{}
		for _, k := range slices.Sorted(mapKeys(r.kv)) {
			if rest, ok := strings.CutPrefix(k, spec.Name); ok {
				if rest = strings.TrimLeft(rest, "/"); rest != "" {
					out = append(out, &watch.KeyPair{Path: k, Key: rest, Value: r.kv[k]})
				}
			}
		}
		return out, true
	}
	return nil, false
}

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// feed applies to st the current answer of every spec whose value changed;
// with fresh false it sometimes re-applies an equal answer, as a Consul
// index bump without a change does.
func (r *registry) feed(st *watch.Store, specs map[string]watch.Spec) {
	for _, key := range slices.Sorted(mapKeys(specs)) {
		v, ok := r.value(specs[key])
		if !ok {
			continue
		}
		old, had := st.Get(key)
		if had && reflect.DeepEqual(old, v) && r.rng.IntN(8) != 0 {
			continue
		}
		st.Apply(watch.Update{Key: key, Value: v, Index: uint64(r.rng.IntN(1 << 30))})
	}
}

// TestCatalogServiceFields guards the fast comparison of catalog elements
// in incremental execution, which compares Name and Tags only: a new field
// must be added there too.
func TestCatalogServiceFields(t *testing.T) {
	if n := reflect.TypeFor[watch.CatalogService]().NumField(); n != 2 {
		t.Fatalf("watch.CatalogService has %d fields; sameElem in template/incremental_exec.go compares 2", n)
	}
}
