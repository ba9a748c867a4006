package pipeline

import (
	"sync"

	"github.com/sluicehq/sluice/processors"
)

// partitions keeps what the messages of each partition reuse one after the
// other: the expressions' scratch memory, and the table entries they read
// and wrote, decoded, so that a hot key is neither read from the table's
// storage nor decoded at every message. Only the callback of a partition
// may use its partitionState.
//
// A cache is coherent because a partition's entries are written only by its
// own processor, and only through the handler: an entry goes in after
// ctx.SetValue stored it (a failed SetValue fails the processor before), or
// as read from the storage. A write the broker later refuses fails the
// processor; its run ends, and so do the caches: every group session starts
// with none (reset, before goka recovers the partitions' tables), so a
// partition revoked, moved or recovered again is read from its table anew.
type partitions struct {
	cacheEntries int // per partition; 0 turns caching off

	mu    sync.Mutex
	parts map[int32]*partitionState
}

// partitionState is what one partition's messages reuse.
type partitionState struct {
	cache   *entryCache // nil when caching is off
	scratch processors.Scratch
	// windows is the partition's window index, nil until a window
	// pipeline's callback first needs it (see windows.go).
	windows *windowIndex
}

func newPartitions(cacheEntries int) *partitions {
	return &partitions{cacheEntries: cacheEntries, parts: map[int32]*partitionState{}}
}

// partition returns the state of partition p.
func (s *partitions) partition(p int32) *partitionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.parts[p]
	if ps == nil {
		ps = &partitionState{}
		if s.cacheEntries > 0 {
			ps.cache = &entryCache{max: s.cacheEntries, entries: map[string]*TableEntry{}}
		}
		s.parts[p] = ps
	}
	return ps
}

// reset drops every partition's state: a group session starts.
func (s *partitions) reset() {
	s.mu.Lock()
	clear(s.parts)
	s.mu.Unlock()
}

// entryCache is one partition's cache, bounded to max entries. When full it
// evicts an arbitrary entry (Go's map iteration starts at a random one):
// no bookkeeping per hit, and a hot key evicted comes back at its next read.
type entryCache struct {
	max     int
	entries map[string]*TableEntry
}

func (c *entryCache) get(key string) *TableEntry {
	if c == nil {
		return nil
	}
	return c.entries[key]
}

func (c *entryCache) put(key string, e *TableEntry) {
	if c == nil {
		return
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.max {
		for k := range c.entries {
			delete(c.entries, k)
			break
		}
	}
	c.entries[key] = e
}
