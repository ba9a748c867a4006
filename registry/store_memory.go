package registry

import (
	"context"
	"sync"
)

// MemoryStore keeps the registry in process memory; it is lost on exit.
type MemoryStore struct {
	mu sync.RWMutex
	st *state
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

func (m *MemoryStore) update(_ context.Context, fn func(st *state) ([]entry, error)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	entries, err := fn(m.st)
	if err != nil {
		return err
	}
	for _, e := range entries {
		m.st.apply(e)
	}
	return nil
}
