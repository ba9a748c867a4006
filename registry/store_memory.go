package registry

import (
	"context"
	"sync"
)

// MemoryStore keeps the registry in process memory; it is lost on exit.
type MemoryStore struct {
	writeMu sync.Mutex   // one writer at a time: read-check-write is atomic
	mu      sync.RWMutex // guards st
	st      *state
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{st: newState()}
}

func (m *MemoryStore) view(fn func(st *state)) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	fn(m.st)
}

// update runs fn (a registration's parse and compatibility check) under the
// read lock only, so that reads go on meanwhile; writeMu keeps the state from
// changing between fn and applying its entries.
func (m *MemoryStore) update(_ context.Context, fn func(st *state) ([]entry, error)) error {
	m.writeMu.Lock()
	defer m.writeMu.Unlock()
	m.mu.RLock()
	entries, err := fn(m.st)
	m.mu.RUnlock()
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range entries {
		m.st.apply(e)
	}
	return nil
}
