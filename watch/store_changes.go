package watch

import "sort"

// Seq returns the Store's change counter: it grows with every value applied
// and every key deleted, and never otherwise. A reader that noted Seq may
// later ask [Store.Changed] what changed since.
func (s *Store) Seq() uint64 { return s.seq }

// Changed returns the keys whose value was applied, or that were deleted,
// after the Store's Seq was since, oldest first, a key once per change. ok is
// false when the Store no longer remembers that far back: the reader must then
// assume that anything changed. The slice is the Store's own: it must not be
// modified, nor kept past the next Apply or Delete.
func (s *Store) Changed(since uint64) (keys []string, ok bool) {
	return s.changes.since(since, s.seq)
}

// changeLog remembers the latest changes of a Store, at least as many as the
// Store has keys (and minLog), so that a reader that looks once per pass over
// the keys never misses any.
type changeLog struct {
	keys []string
	seqs []uint64 // the Seq of each change, increasing
	from uint64   // every change after this Seq is in keys
}

// minLog is the fewest changes a changeLog keeps.
const minLog = 1024

func (l *changeLog) add(seq uint64, key string, entries int) {
	if limit := 2 * max(entries, minLog); len(l.keys) >= limit {
		// Forget the older half: amortised, each change is copied once.
		half := len(l.keys) / 2
		l.from = l.seqs[half-1]
		n := copy(l.keys, l.keys[half:])
		clear(l.keys[n:]) // drop the references to the strings
		l.keys = l.keys[:n]
		l.seqs = l.seqs[:copy(l.seqs, l.seqs[half:])]
	}
	l.keys = append(l.keys, key)
	l.seqs = append(l.seqs, seq)
}

func (l *changeLog) since(since, now uint64) ([]string, bool) {
	if since < l.from || since > now {
		return nil, false
	}
	i := sort.Search(len(l.seqs), func(i int) bool { return l.seqs[i] > since })
	return l.keys[i:len(l.keys):len(l.keys)], true
}
