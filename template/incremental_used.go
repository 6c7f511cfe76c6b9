package template

import "github.com/ctpl/ctpl/watch"

// usedSig is what the last Result's Used was made of: the keys the
// execution recorded itself and, for each fragment that ran from its change
// log, the version of its readers' keys. An execution made of the same has
// the same Used, found without listing the queries again.
type usedSig struct {
	valid    bool
	residual []string
	frags    []*fragment
	vers     []uint64
}

// matches reports whether r is made of what s describes.
func (s *usedSig) matches(r *execution) bool {
	if !s.valid || len(r.used) != len(s.residual) || len(r.fast) != len(s.frags) {
		return false
	}
	for i, f := range r.fast {
		if f != s.frags[i] || f.fast.keysVer != s.vers[i] {
			return false
		}
	}
	for _, k := range s.residual {
		if _, ok := r.used[k]; !ok {
			return false
		}
	}
	return true
}

// record makes s describe r.
func (s *usedSig) record(r *execution) {
	s.valid = len(r.fast) > 0
	s.residual, s.frags, s.vers = s.residual[:0], s.frags[:0], s.vers[:0]
	if !s.valid {
		return
	}
	for k := range r.used {
		s.residual = append(s.residual, k)
	}
	for _, f := range r.fast {
		s.frags = append(s.frags, f)
		s.vers = append(s.vers, f.fast.keysVer)
	}
}

// finish sets res.Used, UsedChanged and Missing from the execution r.
func (t *Template) finish(res *Result, r *execution) {
	if t.sig.matches(r) {
		res.Used, res.UsedChanged = t.usedSpecs, false
	} else {
		t.usedBuilt++
		t.sig.record(r)
		for _, f := range r.fast {
			for k, rl := range f.fast.readers {
				r.used[k] = rl.spec
			}
		}
		res.Used, res.UsedChanged = t.sortedUsed(r.used)
	}
	for _, f := range r.fast {
		if f.fast.missing > 0 {
			f.addMissing(r.missing)
		}
	}
	res.Missing = t.sortedMissing(r.missing)
	t.mapsLen = max(len(r.used), len(r.missing))
	t.mapsPeak = max(t.mapsPeak, t.mapsLen)
}

// addMissing adds to m the queries f's iterations recorded as missing.
func (f *fragment) addMissing(m map[string]*watch.Spec) {
	for _, it := range f.order {
		for _, rd := range it.reads {
			if rd.missing {
				m[rd.key] = rd.spec
			}
		}
	}
}
