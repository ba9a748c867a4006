package pipeline

import "sync"

// stateCaches keeps, per partition, the table entries its messages read and
// wrote, decoded, so that a hot key is neither read from the table's
// storage nor decoded at every message.
//
// A cache is coherent because a partition's entries are written only by its
// own processor, and only through the handler: an entry goes in after
// ctx.SetValue stored it (a failed SetValue fails the processor before), or
// as read from the storage. A write the broker later refuses fails the
// processor; its run ends, and so do the caches: every group session starts
// with none (reset, before goka recovers the partitions' tables), so a
// partition revoked, moved or recovered again is read from its table anew.
type stateCaches struct {
	max int // entries per partition; 0 turns caching off

	mu    sync.Mutex
	parts map[int32]*entryCache
}

func newStateCaches(max int) *stateCaches {
	return &stateCaches{max: max, parts: map[int32]*entryCache{}}
}

// partition returns the cache of partition p, nil when caching is off. Only
// the callback of p may use it.
func (s *stateCaches) partition(p int32) *entryCache {
	if s == nil || s.max == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.parts[p]
	if c == nil {
		c = &entryCache{max: s.max, entries: map[string]*TableEntry{}}
		s.parts[p] = c
	}
	return c
}

// reset drops every partition's cache: a group session starts.
func (s *stateCaches) reset() {
	if s == nil {
		return
	}
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
