package decode

import (
	"sync"
	"unsafe"

	"github.com/ctpl/ctpl/watch"
)

// Interner keeps one copy of the strings that decoded answers repeat:
// node names and addresses, datacenters, check names, statuses and
// outputs, tags, metadata. A 10,000-service catalog on a few hundred nodes
// then holds each such string once instead of once per instance, and a
// decode allocates only the strings it has not seen. It is safe for
// concurrent use; a nil *Interner copies every string.
type Interner struct {
	shards [internShards]internShard

	// Whole values that instances on one node or of one service repeat,
	// keyed by their JSON text: node and service metadata and tagged
	// addresses, sorted tag lists, check headers, node-level checks.
	maps    rawCache[map[string]string]
	headers rawCache[map[string][]string]
	tags    rawCache[watch.ServiceTags]
	checks  rawCache[*watch.HealthCheck]
}

const (
	internShards = 16
	// internMax bounds the strings a shard keeps; a full shard starts
	// afresh, so strings no answer holds any more are let go.
	internMax = 1 << 15
	// internLen is the longest string kept: longer ones (check outputs,
	// certificates) are rarely repeated byte for byte.
	internLen = 256
)

type internShard struct {
	mu sync.Mutex
	m  map[string]string
}

// string returns b as a string, the kept copy when there is one.
func (in *Interner) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if in == nil || len(b) > internLen {
		return string(b)
	}
	sh := &in.shards[shardOf(b)]
	sh.mu.Lock()
	s, ok := sh.m[string(b)] // no allocation: a map index by converted bytes
	if !ok {
		if sh.m == nil || len(sh.m) >= internMax {
			sh.m = make(map[string]string, 256)
		}
		s = string(b)
		sh.m[s] = s
	}
	sh.mu.Unlock()
	return s
}

// shardOf picks a shard from the string's length and last bytes, which
// differ most between node names, addresses and IDs.
func shardOf(b []byte) int {
	h := uint(len(b)) * 31
	if n := len(b); n > 0 {
		h += uint(b[n-1])*7 + uint(b[n/2])
	}
	return int(h % internShards)
}

// bytesString views b as a string without copying; b must not change while
// the string is in use.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// rawCache keeps decoded values by the JSON text they were decoded from,
// so equal text yields the one shared value. The values are read-only.
type rawCache[T any] struct {
	mu sync.Mutex
	m  map[string]T
}

// rawCacheMax bounds a cache; a full one starts afresh.
const rawCacheMax = 1 << 16

// rawCacheLen is the longest text kept.
const rawCacheLen = 4 << 10

func (c *rawCache[T]) get(raw []byte) (T, bool) {
	c.mu.Lock()
	v, ok := c.m[string(raw)]
	c.mu.Unlock()
	return v, ok
}

func (c *rawCache[T]) put(raw []byte, v T) {
	if len(raw) > rawCacheLen {
		return
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= rawCacheMax {
		c.m = make(map[string]T, 64)
	}
	c.m[string(raw)] = v
	c.mu.Unlock()
}
