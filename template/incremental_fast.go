package template

import (
	"bytes"
	"reflect"
	"slices"
	"strings"

	"github.com/ctpl/ctpl/watch"
)

// Incremental execution from a change log.
//
// When the Data keeps a log of the keys it changed (a [watch.Store] does), a
// fragment called with the same elements and outer variables as in its
// last call does not look at its iterations one by one: each was valid when
// that call ended, so each still is unless it read a key changed since. An
// index from every key to the positions that read it gives those at once;
// only they run again, and the rest of the work is copying the outputs.
// The used queries follow the same way: the keys of the index are the
// queries the fragment's iterations read.

// changeLog is what Data may also implement for this: [watch.Store] does.
type changeLog interface {
	// Seq returns a counter that grows with every change.
	Seq() uint64
	// Changed returns the keys changed since Seq was since; ok is false when
	// that is no longer known.
	Changed(since uint64) (keys []string, ok bool)
}

// fastState is what a fragment's last call ran with, valid as of seq.
type fastState struct {
	ok      bool                  // the last call completed, with a change log
	log     changeLog             // that change log
	seq     uint64                // its Seq in that call
	list    any                   // a copy of the list it ranged over
	vars    []reflect.Value       // the outer variables it ran with
	outs    []string              // the output of each position of order
	joined  string                // the outputs of order, one after the other, when built
	offs    []int                 // where each position's output starts in joined, and the end
	stale   []bool                // positions run since joined was built: their output is in outs
	nstale  int                   // how many
	readers map[string]readerList // positions reading each key; nil: to build
	keysVer uint64                // changes whenever the keys of readers may have
	missing int                   // positions whose iteration recorded a missing read
	fastAt  uint64                // the last execution (gen) that called it this way
	dirty   []int32               // scratch: the positions to run again
}

// readerList is the positions of a fragment's order that read one query.
type readerList struct {
	spec *watch.Spec
	pos  []int32
}

// fragmentFast runs f over list from the change log, and reports false,
// having done nothing, when the list or the variables are not those of f's
// last call or the log does not reach back to it.
func (t *Template) fragmentFast(f *fragment, list any, v reflect.Value, vars []reflect.Value) (bool, error) {
	r, s := t.run, &f.fast
	if !s.ok || r.log == nil || r.log != s.log || v.Len() != len(f.order) {
		return false, nil
	}
	changed, ok := r.log.Changed(s.seq)
	if !ok || !sameVars(s.vars, vars) {
		return false, nil
	}
	same, identical := sameList(s.list, list, v)
	if !same {
		return false, nil
	}
	if s.readers == nil {
		f.index()
	}
	if len(s.offs) != len(s.outs)+1 {
		f.join()
	}
	dirty := s.dirty[:0]
	for _, k := range changed {
		dirty = append(dirty, s.readers[k].pos...)
	}
	slices.Sort(dirty)
	dirty = slices.Compact(dirty)
	s.dirty, s.ok = dirty, false // until the call completes
	// The queries of the iterations that run go to the index only: what
	// the execution records itself then stays the same from one change to
	// the next, and so does Used.
	r.fastRun = true
	defer func() { r.fastRun = false }()
	for _, p := range dirty {
		it, err := t.iterate(f, v, int(p))
		if err != nil {
			return true, err
		}
		f.replace(int(p), it, keyOf(v.Index(int(p)), int(p), f.indexed))
	}
	f.writeOutputs(r.out)
	if !identical {
		s.list = snapshot(list, v)
	}
	s.ok, s.seq = true, r.seq
	t.reused += uint64(len(f.order) - len(dirty))
	t.ran += uint64(len(dirty))
	t.fastCalls++
	if s.fastAt != t.gen {
		s.fastAt = t.gen
		r.fast = append(r.fast, f)
	}
	return true, nil
}

// flushFast adds to r's used and missing queries those of f's call from
// the change log earlier in the execution, which a call that is not is
// about to replace.
func (t *Template) flushFast(f *fragment) {
	r := t.run
	for k, rl := range f.fast.readers {
		r.used[k] = rl.spec
	}
	if f.fast.missing > 0 {
		f.addMissing(r.missing)
	}
	r.fast = slices.DeleteFunc(r.fast, func(g *fragment) bool { return g == f })
	f.fast.fastAt = 0
}

// remember records the call that just ran f over list, for the next one.
func (f *fragment) remember(r *execution, list any, v reflect.Value, vars []reflect.Value) {
	s := &f.fast
	s.list, s.readers = snapshot(list, v), nil
	s.ok = r.log != nil && s.list != nil
	if !s.ok {
		return
	}
	s.log, s.seq, s.vars = r.log, r.seq, slices.Clone(vars)
	s.outs = s.outs[:0]
	for _, it := range f.order {
		s.outs = append(s.outs, it.out)
	}
	s.joined, s.offs = "", s.offs[:0] // joined by the next call from the log
}

// join builds joined from outs, and makes each iteration's output a part
// of it: the outputs then lie in order in memory, copied in long runs.
func (f *fragment) join() {
	s := &f.fast
	s.offs = append(s.offs[:0], 0)
	var b strings.Builder
	for _, o := range s.outs {
		s.offs = append(s.offs, s.offs[len(s.offs)-1]+len(o))
	}
	b.Grow(s.offs[len(s.offs)-1])
	for _, o := range s.outs {
		b.WriteString(o)
	}
	s.joined = b.String()
	for p, it := range f.order {
		s.outs[p] = s.joined[s.offs[p]:s.offs[p+1]]
		it.out = s.outs[p]
	}
	s.stale = append(s.stale[:0], make([]bool, len(s.outs))...)
	s.nstale = 0
}

// writeOutputs writes the outputs of f's order to w: runs of positions
// that did not run since joined was built straight from it.
func (f *fragment) writeOutputs(w *bytes.Buffer) {
	s := &f.fast
	if s.nstale > max(16, len(s.outs)/16) {
		f.join()
	}
	from := 0
	for p, stale := range s.stale {
		if stale {
			w.WriteString(s.joined[s.offs[from]:s.offs[p]])
			w.WriteString(s.outs[p])
			from = p + 1
		}
	}
	w.WriteString(s.joined[s.offs[from]:])
}

// index builds f's readers from its order.
func (f *fragment) index() {
	s := &f.fast
	s.readers = make(map[string]readerList, len(f.order))
	s.missing = 0
	for p, it := range f.order {
		p32 := int32(p)
		for _, rd := range it.reads {
			rl := s.readers[rd.key]
			if n := len(rl.pos); n > 0 && rl.pos[n-1] == p32 {
				continue // read twice by the same iteration
			}
			rl.spec, rl.pos = rd.spec, append(rl.pos, p32)
			s.readers[rd.key] = rl
		}
		s.missing += it.missingReads()
	}
	s.keysVer++
}

// replace puts it, just run, at position p of f's order in place of what
// ran there before.
func (f *fragment) replace(p int, it *iteration, key iterKey) {
	s := &f.fast
	old := f.order[p]
	if !sameKeys(old.reads, it.reads) {
		f.unindex(old, int32(p))
		f.reindex(it, int32(p))
	}
	s.missing += it.missingReads() - old.missingReads()
	it.pos = p
	f.order[p], s.outs[p] = it, it.out
	if !s.stale[p] {
		s.stale[p] = true
		s.nstale++
	}
	f.cache[key] = it
}

// unindex removes position p from the readers of the keys it read.
func (f *fragment) unindex(it *iteration, p int32) {
	s := &f.fast
	for _, rd := range it.reads {
		rl, ok := s.readers[rd.key]
		if !ok {
			continue
		}
		rl.pos = slices.DeleteFunc(rl.pos, func(x int32) bool { return x == p })
		if len(rl.pos) == 0 {
			delete(s.readers, rd.key)
			s.keysVer++
			continue
		}
		s.readers[rd.key] = rl
	}
}

// reindex adds position p to the readers of the keys it read.
func (f *fragment) reindex(it *iteration, p int32) {
	s := &f.fast
	for _, rd := range it.reads {
		rl, ok := s.readers[rd.key]
		if !ok {
			rl.spec = rd.spec
			s.keysVer++
		}
		if !slices.Contains(rl.pos, p) {
			rl.pos = append(rl.pos, p)
		}
		s.readers[rd.key] = rl
	}
}

// missingReads is 1 when the iteration recorded a missing read, else 0.
func (it *iteration) missingReads() int {
	for _, rd := range it.reads {
		if rd.missing {
			return 1
		}
	}
	return 0
}

// sameKeys reports whether two iterations read the same keys in the same
// order.
func sameKeys(a, b []read) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].key != b[i].key {
			return false
		}
	}
	return true
}

// snapshot returns a copy of list, a slice, when its elements can be
// compared by identity (pointers and strings), else nil. A copy, not the
// list: an element changed in place must not go unseen.
func snapshot(list any, v reflect.Value) any {
	switch l := list.(type) {
	case []*watch.HealthService:
		return slices.Clone(l)
	case []*watch.CatalogService:
		return slices.Clone(l)
	case []*watch.KeyPair:
		return slices.Clone(l)
	case []*watch.Node:
		return slices.Clone(l)
	case []string:
		return slices.Clone(l)
	}
	if k := v.Type().Elem().Kind(); k != reflect.Pointer && k != reflect.String {
		return nil
	}
	c := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
	reflect.Copy(c, v)
	return c.Interface()
}

// sameList reports whether list has the elements of old, a snapshot, and
// whether they are identical: the same pointers and strings. Catalog
// services, which every answer of Consul decodes anew, compare by value, as
// sameElem does.
func sameList(old, list any, v reflect.Value) (same, identical bool) {
	switch o := old.(type) {
	case nil:
		return false, false
	case []*watch.HealthService:
		l, ok := list.([]*watch.HealthService)
		return ok && slices.Equal(o, l), true
	case []*watch.CatalogService:
		l, ok := list.([]*watch.CatalogService)
		if !ok || len(l) != len(o) {
			return false, false
		}
		identical = true
		for i := range o {
			if o[i] != l[i] {
				identical = false
				if !sameCatalogService(o[i], l[i]) {
					return false, false
				}
			}
		}
		return true, identical
	case []*watch.KeyPair:
		l, ok := list.([]*watch.KeyPair)
		return ok && slices.Equal(o, l), true
	case []*watch.Node:
		l, ok := list.([]*watch.Node)
		return ok && slices.Equal(o, l), true
	case []string:
		l, ok := list.([]string)
		return ok && slices.Equal(o, l), true
	}
	ov := reflect.ValueOf(old)
	if ov.Type() != v.Type() || ov.Len() != v.Len() {
		return false, false
	}
	pointers := v.Type().Elem().Kind() == reflect.Pointer
	for i := range ov.Len() {
		a, b := ov.Index(i), v.Index(i)
		if pointers && a.Pointer() != b.Pointer() || !pointers && a.String() != b.String() {
			return false, false
		}
	}
	return true, true
}

// sameCatalogService compares two catalog services by value.
func sameCatalogService(a, b *watch.CatalogService) bool {
	return a != nil && b != nil && a.Name == b.Name && slices.Equal(a.Tags, b.Tags) && (a.Tags == nil) == (b.Tags == nil)
}
