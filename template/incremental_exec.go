package template

import (
	"errors"
	"reflect"
	"slices"

	"github.com/ctpl/ctpl/watch"
)

// versioner is what Data also implements for incremental execution:
// [watch.Store] does.
type versioner interface {
	// Version returns the version of key's value, 0 when it has none;
	// equal versions mean the same value.
	Version(key string) uint64
}

// iterKey identifies an iteration's element in a fragment's cache: by its
// name for the catalog, KV and health records, by value for strings, by
// position otherwise (or when the body may read the position).
type iterKey struct {
	a, b string
	i    int
}

// iteration is the cached output of one iteration of a fragment.
type iteration struct {
	elem  any             // the element it ran with
	vars  []reflect.Value // the outer variables it ran with
	reads []read          // every query it read, in order
	index int             // the element's position when it ran
	pos   int             // its position in its fragment's order
	out   string
	gen   uint64 // the last execution that used it
}

// read is one query read by an iteration.
type read struct {
	entry   *watch.Entry // the Store's entry, checked without a lookup; nil if none
	spec    *watch.Spec
	key     string
	version uint64
	missing bool // recorded as missing
}

// recorder collects the reads of the iteration that is running.
type recorder struct{ reads []read }

// errNestedFragment stops an incremental execution in which a fragment
// runs inside another's iteration (a template calling itself); Execute then
// renders in full.
var errNestedFragment = errors.New("fragment inside a fragment")

// errUntypedVariable stops an incremental execution in which an outer
// variable read by a fragment holds an empty-interface value, which a
// variable declared in the wrapper could not hold alike.
var errUntypedVariable = errors.New("fragment reads an interface{} variable")

// executeIncremental runs the rewritten template; ok is false when it
// failed, the caller then runs the original one.
func (t *Template) executeIncremental(data Data, ver versioner, g *guard) (*Result, bool) {
	t.gen++
	if !sameData(t.inc.data, data) {
		// Cached versions and entries are another Data's.
		for _, f := range t.inc.frags {
			clear(f.cache)
			f.order, f.fast = nil, fastState{}
		}
		t.inc.data = data
	}
	res, err := t.execute(t.inc.main, data, ver, g)
	if err != nil {
		return nil, false
	}
	for _, f := range t.inc.frags {
		// Without stale entries, the cache holds only what was used. A
		// call from the change log marks no entry: it replaces the
		// entries it runs again, under the same keys.
		if f.fast.fastAt != t.gen && (len(f.cache) > f.live || t.gen%64 == 0) {
			for k, it := range f.cache {
				if it.gen != t.gen {
					delete(f.cache, k)
				}
			}
		}
		f.live = 0
	}
	return res, true
}

// sameData reports whether a and b are the same Data: only a pointer, such
// as a *watch.Store, can be.
func sameData(a, b Data) bool {
	return a != nil && b != nil && reflect.TypeOf(a) == reflect.TypeOf(b) &&
		reflect.TypeOf(a).Kind() == reflect.Pointer && a == b
}

// note records a read of key in the iteration that is running, if any.
func (r *execution) note(spec *watch.Spec, key string, missing bool) {
	if r.rec == nil {
		return
	}
	rd := read{spec: spec, key: key, version: r.ver.Version(key), missing: missing}
	if r.entries != nil {
		rd.entry = r.entries.Entry(key)
	}
	r.rec.reads = append(r.rec.reads, rd)
}

// entryStore is what Data may also implement so that reads are checked
// without a lookup: [watch.Store] does. An Entry's Version must be what
// Version(key) returns while the Entry is the key's, and change when it
// stops being it.
type entryStore interface {
	Entry(key string) *watch.Entry
}

// fragmentVar is varFunc: the value of the k-th outer variable of the
// fragment running.
func (t *Template) fragmentVar(k int) (reflect.Value, error) {
	if t.run == nil || k < 0 || k >= len(t.run.vars) {
		return reflect.Value{}, errNestedFragment
	}
	return t.run.vars[k], nil
}

// fragment is fragFunc: it writes the output of fragment id's range over
// list, with vars the values of the outer variables its body reads, to the
// execution's output and returns "".
func (t *Template) fragment(id int, list any, vars ...reflect.Value) (string, error) {
	r := t.run
	if r == nil || r.ver == nil || r.rec != nil || t.inc == nil || id < 0 || id >= len(t.inc.frags) {
		return "", errNestedFragment
	}
	for _, v := range vars {
		if v.IsValid() && (v.Kind() == reflect.Interface && v.Type().NumMethod() == 0 || !v.CanInterface()) {
			return "", errUntypedVariable
		}
	}
	r.vars = vars
	defer func() { r.vars = nil }()
	f := t.inc.frags[id]
	if f.fast.fastAt == t.gen {
		t.flushFast(f) // called again, maybe otherwise
	}
	v := reflect.ValueOf(list)
	if v.Kind() != reflect.Slice || (f.indexed && addressable(v.Type().Elem())) {
		// Ranged as text/template does, without caching.
		f.fast.ok = false
		return "", f.wrapper.Execute(t.writer(r.out), list)
	}
	if done, err := t.fragmentFast(f, list, v, vars); done {
		if err == nil {
			err = r.guard.overSize(t.name, r.out.Len()) // outputs copied from the cache
		}
		return "", err
	}
	f.fast.ok = false // until this call completes
	n := v.Len()
	prev, next := f.order, make([]*iteration, 0, n)
	cursor := 0 // where in prev the next element is expected
	for i := range n {
		elem := v.Index(i)
		it := f.lookup(prev, &cursor, elem, i, vars, r.ver)
		if it != nil {
			if it.gen != t.gen {
				it.gen = t.gen
				f.live++
			}
			t.reused++
			for _, rd := range it.reads {
				r.used[rd.key] = rd.spec
				if rd.missing {
					r.missing[rd.key] = rd.spec
				}
			}
		} else {
			t.ran++
			var err error
			if it, err = t.iterate(f, v, i); err != nil {
				return "", err
			}
			f.cache[keyOf(elem, i, f.indexed)] = it
			f.live++
		}
		it.pos = len(next)
		next = append(next, it)
		r.out.WriteString(it.out)
	}
	f.order = next
	f.remember(r, list, v, vars)
	return "", r.guard.overSize(t.name, r.out.Len()) // outputs copied from the cache
}

// lookup returns a cached iteration valid for element i, or nil. It tries
// first the one that followed the last match in the previous call's order,
// which saves hashing the key when the list kept its order; any valid
// entry gives the right output, whichever way it was found.
func (f *fragment) lookup(prev []*iteration, cursor *int, elem reflect.Value, i int, vars []reflect.Value, ver versioner) *iteration {
	if c := *cursor; c < len(prev) {
		if it := prev[c]; (!f.indexed || it.index == i) && it.valid(elem, vars, ver) {
			*cursor = c + 1
			return it
		}
	}
	it := f.cache[keyOf(elem, i, f.indexed)]
	if it == nil || (f.indexed && it.index != i) || !it.valid(elem, vars, ver) {
		return nil
	}
	if it.pos < len(prev) && prev[it.pos] == it {
		*cursor = it.pos + 1
	}
	return it
}

// iterate runs the body of f for element i of list.
func (t *Template) iterate(f *fragment, list reflect.Value, i int) (*iteration, error) {
	r := t.run
	dot := list.Slice(i, i+1)
	if f.indexed {
		// A map from the index to the element gives $i its value.
		dot = reflect.MakeMapWithSize(reflect.MapOf(reflect.TypeFor[int](), list.Type().Elem()), 1)
		dot.SetMapIndex(reflect.ValueOf(i), list.Index(i))
	}
	rec := &recorder{}
	r.rec = rec
	b := &t.inc.buf
	b.Reset()
	err := f.wrapper.Execute(t.writer(b), dot)
	r.rec = nil
	if err != nil {
		return nil, err
	}
	return &iteration{
		elem: list.Index(i).Interface(), vars: slices.Clone(r.vars), index: i,
		reads: rec.reads, out: b.String(), gen: t.gen,
	}, nil
}

// addressable reports whether elements of type typ, addressable in a
// slice, could behave otherwise as map values (pointer methods).
func addressable(typ reflect.Type) bool {
	return typ.Kind() == reflect.Struct || typ.Kind() == reflect.Array
}

// valid reports whether the cached output holds for elem: the same
// element and every query read unchanged.
func (it *iteration) valid(elem reflect.Value, vars []reflect.Value, ver versioner) bool {
	if !sameElem(it.elem, elem) || !sameVars(it.vars, vars) {
		return false
	}
	for _, rd := range it.reads {
		if rd.entry != nil {
			if rd.entry.Version != rd.version {
				return false
			}
		} else if ver.Version(rd.key) != rd.version {
			return false
		}
	}
	return true
}

// sameVars reports whether two sets of variable values are equal: same
// types, equal values.
func sameVars(a, b []reflect.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].IsValid() != b[i].IsValid() {
			return false
		}
		if a[i].IsValid() && (a[i].Type() != b[i].Type() || !reflect.DeepEqual(a[i].Interface(), b[i].Interface())) {
			return false
		}
	}
	return true
}

// keyOf returns the cache key of element i.
func keyOf(elem reflect.Value, i int, indexed bool) iterKey {
	k := iterKey{i: -1}
	if indexed {
		k.i = i
	}
	switch elem.Kind() {
	case reflect.String:
		k.a = elem.String()
		return k
	case reflect.Pointer, reflect.Interface:
		if elem.IsNil() {
			break
		}
		switch e := elem.Interface().(type) {
		case *watch.CatalogService:
			k.a = e.Name
			return k
		case *watch.KeyPair:
			k.a, k.b = e.Path, e.Key
			return k
		case *watch.HealthService:
			k.a, k.b = e.Node, e.ID
			return k
		case *watch.Node:
			k.a, k.b = e.Node, e.Address
			return k
		case string:
			k.a = e
			return k
		}
	}
	k.i = i
	return k
}

// sameElem reports whether elem equals old by value. Values in a Store are
// never modified, so the same pointer is the same value.
func sameElem(old any, elem reflect.Value) bool {
	if elem.Kind() == reflect.Pointer {
		o := reflect.ValueOf(old)
		if o.Kind() == reflect.Pointer && o.Type() == elem.Type() && o.Pointer() == elem.Pointer() {
			return true
		}
	}
	switch e := elem.Interface().(type) {
	case *watch.CatalogService:
		o, ok := old.(*watch.CatalogService)
		return ok && sameCatalogService(o, e)
	case string:
		o, ok := old.(string)
		return ok && o == e
	}
	return reflect.DeepEqual(old, elem.Interface())
}
