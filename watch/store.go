package watch

import "time"

// Update is what a [Watcher] sends when a query's data changes or its error
// state does.
type Update struct {
	// Key is the canonical string of the query's [Spec].
	Key string
	// Value is the new data; nil when Err is set.
	Value any
	// Index is the index of the data.
	Index uint64
	// Err is set when the query started failing; it is cleared by the next
	// data update.
	Err error
	// At is when the update was received.
	At time.Time
	// Reread is set on the first answers of a query naming a datacenter
	// after that datacenter came back (one of its queries recovered, or saw
	// its index go backwards): they are sent even when unchanged, so that
	// the consumer knows each of the datacenter's queries answered afresh.
	Reread bool
	// run is the watch of the query that sent it (Watcher.Current); 0 when
	// no Watcher did.
	run uint64
}

// Entry is what a [Store] knows of one query.
type Entry struct {
	Value    any
	Index    uint64
	Received time.Time // when the value arrived
	Err      error     // the current error, if the query is failing
	ErrSince time.Time // when the current error began (the failing update's At)
	HasValue bool      // whether a value ever arrived
	// Version changes, to a value never used before by this Store, every
	// time a value is applied: equal versions mean the very same value.
	Version uint64
}

// Store holds the latest data of every query. It is not safe for concurrent
// use: the agent loop owns it.
//
// Values are shared, not copied: once applied, a value must not be
// modified, so that readers may keep it and compare it with later ones.
type Store struct {
	entries map[string]*Entry
	seq     uint64 // the last Version given
	changes changeLog
}

// NewStore returns an empty Store.
func NewStore() *Store { return &Store{entries: make(map[string]*Entry)} }

// Apply records u and reports whether the stored value changed.
func (s *Store) Apply(u Update) bool {
	e := s.entries[u.Key]
	if e == nil {
		e = &Entry{}
		s.entries[u.Key] = e
	}
	if u.Err != nil {
		if e.Err == nil {
			e.ErrSince = u.At
		}
		e.Err = u.Err
		return false
	}
	s.seq++
	e.Value, e.Index, e.Received, e.Err, e.HasValue, e.Version = u.Value, u.Index, u.At, nil, true, s.seq
	e.ErrSince = time.Time{}
	s.changes.add(s.seq, u.Key, len(s.entries))
	return true
}

// Get returns the value of the query named key, and whether one has arrived.
func (s *Store) Get(key string) (any, bool) {
	e := s.entries[key]
	if e == nil || !e.HasValue {
		return nil, false
	}
	return e.Value, true
}

// Version returns the version of key's value, 0 when none has arrived: a
// reader that saw version v of key may reuse what it derived from it while
// Version(key) is still v.
func (s *Store) Version(key string) uint64 {
	e := s.entries[key]
	if e == nil || !e.HasValue {
		return 0
	}
	return e.Version
}

// Entry returns what the store knows of key, or nil.
func (s *Store) Entry(key string) *Entry { return s.entries[key] }

// Delete forgets key. The Entry it had, which readers may hold, gets a
// Version no value ever has, so that they see it changed.
func (s *Store) Delete(key string) {
	if e := s.entries[key]; e != nil {
		e.Version = DeletedVersion
		s.seq++
		s.changes.add(s.seq, key, len(s.entries))
	}
	delete(s.entries, key)
}

// DeletedVersion is the Version of an Entry its Store deleted.
const DeletedVersion = ^uint64(0)

// Len returns the number of queries the store knows.
func (s *Store) Len() int { return len(s.entries) }
