package pipeline

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka/storage"
)

// warmTTL is how long the store of a partition this instance no longer owns
// is kept. A store kept longer could miss a tombstone that the broker has
// compacted away meanwhile (after delete.retention.ms, a day by default);
// ten minutes covers a rolling deploy's rebalances with a wide margin.
const warmTTL = 10 * time.Minute

// sweepEvery is how often writes look for stores unowned for warmTTL, so
// that they are dropped even when no rebalance builds or closes a store.
const sweepEvery = time.Minute

// errStoreClosed is what a write to a closed warm store returns.
var errStoreClosed = errors.New("table store written after it was closed")

// warmStores is the storage builder of a goka processor's in-memory group
// table: it keeps each partition's memory store from one group session to
// the next, so that a partition this instance owns again after a rebalance
// recovers only the changelog written since it last owned it, instead of the
// whole changelog (goka's MemoryBuilder hands out an empty store each time,
// and every eager rebalance replays every partition).
//
// Exactness: a kept store holds exactly the changelog up to its stored
// offset (goka sets the offset after each write is acknowledged, and after
// each record it recovers), and goka recovers every partition it is given
// from that offset to the high-water mark. So writes that another instance
// made while it owned the partition are read back before the partition
// processes anything. A store is not kept when that could be false:
//   - one warmStores lives as long as one goka processor, and a processor
//     that fails is rebuilt with a new one (a failed write may have reached
//     the store but not the changelog);
//   - goka closes a store once the writes in flight are acknowledged, but
//     gives up waiting after a minute: a store closed with a value set and
//     its offset not (yet) confirmed is dropped, and a write that arrives
//     after the close is refused and drops the store too (a partition's
//     first write, at offset 0, gets no offset from goka, so its session's
//     store is dropped too, once);
//   - a store unowned for warmTTL is dropped (compacted tombstones), and so
//     is one asked for while still open (goka never does this).
//
// Other tables (lookups of other pipelines' tables) get a new store each
// time, as before: their views live as long as the processor anyway.
type warmStores struct {
	table string // the group table topic
	log   *slog.Logger
	now   func() time.Time

	mu        sync.Mutex
	stores    map[int32]*warmStore
	lastSweep atomic.Int64 // Unix nanoseconds
}

// warmStore is one partition's kept store.
type warmStore struct {
	mem      storage.Storage
	open     *warmHandle // the handle in use; nil while unowned
	closedAt time.Time
}

func newWarmStores(table string, log *slog.Logger) *warmStores {
	return &warmStores{table: table, log: log, now: time.Now, stores: map[int32]*warmStore{}}
}

// build is the storage.Builder.
func (w *warmStores) build(topic string, partition int32) (storage.Storage, error) {
	if topic != w.table {
		return newMemoryStorage(), nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.dropExpired()
	ws, ok := w.stores[partition]
	switch {
	case ok && ws.open == nil:
		offset, err := ws.mem.GetOffset(-1)
		if err != nil {
			return nil, fmt.Errorf("reading the offset of a kept store: %w", err)
		}
		w.log.Debug("table partition kept since it was last owned: recovering from its offset", "topic", topic, "partition", partition, "offset", offset, "unowned", w.now().Sub(ws.closedAt).Round(time.Millisecond))
	case ok:
		w.log.Warn("table partition asked for while still open: starting from an empty store", "topic", topic, "partition", partition)
		ws = &warmStore{mem: newMemoryStorage()}
		w.stores[partition] = ws
	default:
		ws = &warmStore{mem: newMemoryStorage()}
		w.stores[partition] = ws
	}
	ws.open = &warmHandle{Storage: ws.mem, owner: w, store: ws, partition: partition}
	return ws.open, nil
}

// sweep runs dropExpired if it has not run for sweepEvery; it is cheap
// enough to call at every write.
func (w *warmStores) sweep() {
	if w.now().UnixNano()-w.lastSweep.Load() < int64(sweepEvery) {
		return
	}
	w.mu.Lock()
	w.dropExpired()
	w.mu.Unlock()
}

// dropExpired forgets the stores unowned for warmTTL. Called with mu held.
func (w *warmStores) dropExpired() {
	now := w.now()
	w.lastSweep.Store(now.UnixNano())
	for p, ws := range w.stores {
		if ws.open == nil && now.Sub(ws.closedAt) > warmTTL {
			delete(w.stores, p)
		}
	}
}

// closed keeps h's store for the partition's next owner session, unless a
// value was set through h without its offset being confirmed.
func (w *warmStores) closed(h *warmHandle) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ws := w.stores[h.partition]; ws == h.store && ws.open == h {
		if n := h.unconfirmed.Load(); n != 0 {
			delete(w.stores, h.partition)
			w.log.Debug("table partition closed with writes whose offset is not confirmed: its store is not kept", "topic", w.table, "partition", h.partition, "writes", n)
		} else {
			ws.open = nil
			ws.closedAt = w.now()
		}
	}
	w.dropExpired()
}

// writtenAfterClose drops the store h was a handle of.
func (w *warmStores) writtenAfterClose(h *warmHandle) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stores[h.partition] == h.store {
		delete(w.stores, h.partition)
	}
	w.log.Warn("table partition written after it was closed: its kept store is dropped", "topic", w.table, "partition", h.partition)
}

// warmHandle is one session's use of a kept store. Close keeps the store
// instead of discarding it; writes after Close are refused.
type warmHandle struct {
	storage.Storage
	owner     *warmStores
	store     *warmStore
	partition int32
	// unconfirmed counts values set or deleted less offsets set: goka sets
	// the offset after each record it recovers and after each table write
	// Kafka acknowledged, so it is 0 once every write is confirmed.
	unconfirmed atomic.Int64

	mu     sync.RWMutex
	isShut bool
}

// write runs a write unless the handle is closed.
func (h *warmHandle) write(f func() error) error {
	h.mu.RLock()
	if h.isShut {
		h.mu.RUnlock()
		h.owner.writtenAfterClose(h)
		return errStoreClosed
	}
	err := f()
	h.mu.RUnlock()
	h.owner.sweep()
	return err
}

func (h *warmHandle) Set(key string, value []byte) error {
	return h.write(func() error {
		h.unconfirmed.Add(1)
		return h.Storage.Set(key, value)
	})
}

func (h *warmHandle) Delete(key string) error {
	return h.write(func() error {
		h.unconfirmed.Add(1)
		return h.Storage.Delete(key)
	})
}

func (h *warmHandle) SetOffset(offset int64) error {
	return h.write(func() error {
		h.unconfirmed.Add(-1)
		return h.Storage.SetOffset(offset)
	})
}

// Close keeps the store for the partition's next session. It waits for a
// write under way, so that none lands after the store was handed on.
func (h *warmHandle) Close() error {
	h.mu.Lock()
	already := h.isShut
	h.isShut = true
	h.mu.Unlock()
	if !already {
		h.owner.closed(h)
	}
	return nil
}
