package decode

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// Memo remembers one query's last decoded answer by a hash of its body, so
// an answer whose body did not change is not decoded again.
//
// Invariant: the value kept is what decode gave for a body with the hash
// kept; a 128-bit hash (two seeded maphashes) and the length stand for
// the body. TestMemoDecodesEveryChange fails when a changed body is
// answered with the value of the last one.
type Memo[T any] struct {
	mu    sync.Mutex
	sum   bodySum
	value T
	ok    bool
}

// bodySum is a 128-bit hash of a body and its length.
type bodySum struct {
	a, b uint64
	n    int
}

var sumSeeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

func sumOf(body []byte) bodySum {
	return bodySum{a: maphash.Bytes(sumSeeds[0], body), b: maphash.Bytes(sumSeeds[1], body), n: len(body)}
}

// lookup returns the value remembered for a body with sum s.
func (m *Memo[T]) lookup(s bodySum) (T, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ok && m.sum == s {
		return m.value, true
	}
	var zero T
	return zero, false
}

func (m *Memo[T]) store(s bodySum, v T) {
	m.mu.Lock()
	m.sum, m.value, m.ok = s, v, true
	m.mu.Unlock()
}

// Decode returns the value of body: the remembered one when the body is
// unchanged, else decode's, remembered when it succeeds. count counts the
// decode done or saved.
func (m *Memo[T]) Decode(body []byte, count *Counters, decode func([]byte) (T, error)) (T, error) {
	s := sumOf(body)
	if v, ok := m.lookup(s); ok {
		count.skipped.Add(1)
		return v, nil
	}
	count.decoded.Add(1)
	v, err := decode(body)
	if err == nil {
		m.store(s, v)
	}
	return v, err
}

// Counters count the answers decoded and the decodes saved because a body
// was unchanged. The zero value is ready; it is safe for concurrent use.
type Counters struct {
	decoded, skipped atomic.Int64
}

// Load returns how many answers were decoded and how many decodes were
// saved.
func (c *Counters) Load() (decoded, skipped int64) {
	return c.decoded.Load(), c.skipped.Load()
}
