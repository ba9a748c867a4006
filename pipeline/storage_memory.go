package pipeline

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"sort"
	"sync"

	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb/util"
)

// memoryStorage is an in-memory goka table store. It replaces goka's
// storage.NewMemory, which keeps a sorted key slice and sorts all of it at
// every new key: recovering a table of n keys costs some n² comparisons (a
// 200,000-key changelog took minutes of CPU, while LevelDB recovers it in
// about a second). This one keeps a map and sorts the keys only when
// iterated, which goka does not do on the message path. Safe for concurrent
// readers with one writer, as goka requires.
type memoryStorage struct {
	mu     sync.RWMutex
	values map[string][]byte
	offset *int64
}

func newMemoryStorage() *memoryStorage {
	return &memoryStorage{values: map[string][]byte{}}
}

var _ storage.Storage = (*memoryStorage)(nil)

func (m *memoryStorage) Open() error  { return nil }
func (m *memoryStorage) Close() error { return nil }

// MarkRecovered does nothing: a memory store has no bulk mode to end.
func (m *memoryStorage) MarkRecovered() error { return nil }

func (m *memoryStorage) Has(key string) (bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.values[key]
	return ok, nil
}

func (m *memoryStorage) Get(key string) ([]byte, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.values[key], nil
}

func (m *memoryStorage) Set(key string, value []byte) error {
	if value == nil {
		return errors.New("cannot write nil value")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.values[key] = value
	return nil
}

func (m *memoryStorage) Delete(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.values, key)
	return nil
}

func (m *memoryStorage) GetOffset(def int64) (int64, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.offset == nil {
		return def, nil
	}
	return *m.offset, nil
}

func (m *memoryStorage) SetOffset(offset int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.offset = &offset
	return nil
}

// Iterator iterates over a snapshot of the store in key order.
func (m *memoryStorage) Iterator() (storage.Iterator, error) {
	return m.snapshot(func(string) bool { return true }), nil
}

// IteratorWithRange iterates over a snapshot of the keys from start
// (included) to limit (excluded; every key with the prefix start when limit
// is empty), in key order, as goka's LevelDB storage does.
func (m *memoryStorage) IteratorWithRange(start, limit []byte) (storage.Iterator, error) {
	if len(limit) == 0 {
		limit = util.BytesPrefix(start).Limit
	}
	return m.snapshot(func(k string) bool {
		return bytes.Compare([]byte(k), start) >= 0 && (limit == nil || bytes.Compare([]byte(k), limit) < 0)
	}), nil
}

func (m *memoryStorage) snapshot(keep func(string) bool) *memoryIterator {
	m.mu.RLock()
	values := make(map[string][]byte, len(m.values))
	for k, v := range m.values {
		if keep(k) {
			values[k] = v
		}
	}
	m.mu.RUnlock()
	return &memoryIterator{keys: slices.Sorted(maps.Keys(values)), values: values, at: -1}
}

// memoryIterator walks a snapshot's sorted keys; Next moves to the first.
type memoryIterator struct {
	keys   []string
	values map[string][]byte
	at     int
}

func (it *memoryIterator) Next() bool {
	if it.at < len(it.keys) {
		it.at++
	}
	return it.at < len(it.keys)
}

func (it *memoryIterator) Err() error { return nil }

func (it *memoryIterator) Key() []byte {
	if it.at < 0 || it.at >= len(it.keys) {
		return nil
	}
	return []byte(it.keys[it.at])
}

func (it *memoryIterator) Value() ([]byte, error) {
	if it.at < 0 || it.at >= len(it.keys) {
		return nil, nil
	}
	return it.values[it.keys[it.at]], nil
}

func (it *memoryIterator) Release() { it.at = len(it.keys) }

// Seek places the iterator before the first key at or after key, so that
// Next moves to it; it reports whether there is such a key.
func (it *memoryIterator) Seek(key []byte) bool {
	i := sort.SearchStrings(it.keys, string(key))
	it.at = i - 1
	return i < len(it.keys)
}
