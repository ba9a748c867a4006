package pipeline

import (
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/lovoo/goka/storage"
)

func newTestWarmStores(clock *time.Time) *warmStores {
	w := newWarmStores("g-table", slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.now = func() time.Time { return *clock }
	return w
}

func mustBuild(t *testing.T, w *warmStores, topic string, p int32) storage.Storage {
	t.Helper()
	st, err := w.build(topic, p)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Open(); err != nil {
		t.Fatal(err)
	}
	return st
}

// written returns partition p's open store of the group table with k set to
// v and its offset to off.
func written(t *testing.T, w *warmStores, p int32, v string, off int64) storage.Storage {
	t.Helper()
	st := mustBuild(t, w, "g-table", p)
	if err := st.Set("k", []byte(v)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetOffset(off); err != nil {
		t.Fatal(err)
	}
	return st
}

// contents returns a store's value of k and its offset (-1 when unset).
func contents(t *testing.T, st storage.Storage, k string) (string, int64) {
	t.Helper()
	v, err := st.Get(k)
	if err != nil {
		t.Fatal(err)
	}
	off, err := st.GetOffset(-1)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), off
}

func TestWarmStoresKeepAPartitionBetweenSessions(t *testing.T) {
	clock := time.Unix(0, 0)
	w := newTestWarmStores(&clock)
	st := mustBuild(t, w, "g-table", 3)
	if err := st.Set("k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if err := st.SetOffset(41); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(warmTTL - time.Second)

	again := mustBuild(t, w, "g-table", 3)
	if v, off := contents(t, again, "k"); v != "v1" || off != 41 {
		t.Errorf("kept store: k=%q offset %d, want v1 at offset 41", v, off)
	}
	if v, off := contents(t, mustBuild(t, w, "g-table", 4), "k"); v != "" || off != -1 {
		t.Errorf("another partition's store: k=%q offset %d, want empty", v, off)
	}
	if v, off := contents(t, mustBuild(t, w, "other-table", 3), "k"); v != "" || off != -1 {
		t.Errorf("another table's store: k=%q offset %d, want empty (only the group table is kept)", v, off)
	}
}

func TestWarmStoresDropAStoreUnownedTooLong(t *testing.T) {
	clock := time.Unix(0, 0)
	w := newTestWarmStores(&clock)
	st := written(t, w, 0, "v1", 7)
	_ = st.Close()
	clock = clock.Add(warmTTL + time.Second)
	if v, off := contents(t, mustBuild(t, w, "g-table", 0), "k"); v != "" || off != -1 {
		t.Errorf("store unowned for longer than %s: k=%q offset %d, want a new empty one", warmTTL, v, off)
	}
}

func TestWarmStoresDropAStoreWrittenAfterClose(t *testing.T) {
	clock := time.Unix(0, 0)
	w := newTestWarmStores(&clock)
	st := written(t, w, 0, "v1", 7)
	_ = st.Close()
	// A write goka gave up waiting for lands after the session ended.
	if err := st.SetOffset(8); !errors.Is(err, errStoreClosed) {
		t.Errorf("offset set after close: %v, want %v", err, errStoreClosed)
	}
	if err := st.Set("k", []byte("late")); !errors.Is(err, errStoreClosed) {
		t.Errorf("value set after close: %v, want %v", err, errStoreClosed)
	}
	if v, off := contents(t, mustBuild(t, w, "g-table", 0), "k"); v != "" || off != -1 {
		t.Errorf("store written after close: k=%q offset %d, want a new empty one", v, off)
	}
}

func TestWarmStoresLateWriteDoesNotReachTheNextSession(t *testing.T) {
	clock := time.Unix(0, 0)
	w := newTestWarmStores(&clock)
	first := written(t, w, 0, "v1", 7)
	_ = first.Close()
	second := mustBuild(t, w, "g-table", 0)
	if err := first.Set("k", []byte("late")); !errors.Is(err, errStoreClosed) {
		t.Errorf("write through the closed handle: %v, want %v", err, errStoreClosed)
	}
	if v, off := contents(t, second, "k"); v != "v1" || off != 7 {
		t.Errorf("store of the session after: k=%q offset %d, want v1 at 7, untouched by the late write", v, off)
	}
	// It is not kept after this session either.
	_ = second.Close()
	if v, _ := contents(t, mustBuild(t, w, "g-table", 0), "k"); v != "" {
		t.Errorf("store of a partition written late is kept: k=%q", v)
	}
}

func TestWarmStoresDropAStoreClosedWithAWriteUnconfirmed(t *testing.T) {
	clock := time.Unix(0, 0)
	w := newTestWarmStores(&clock)
	st := written(t, w, 0, "v1", 7)
	// goka stopped waiting for this write's acknowledgement (or it failed):
	// the value is in the store, maybe never in the changelog.
	_ = st.Set("k", []byte("v2"))
	_ = st.Close()
	if v, off := contents(t, mustBuild(t, w, "g-table", 0), "k"); v != "" || off != -1 {
		t.Errorf("store closed with an unconfirmed write: k=%q offset %d, want a new empty one", v, off)
	}
}

func TestWarmStoresNeverShareAnOpenStore(t *testing.T) {
	clock := time.Unix(0, 0)
	w := newTestWarmStores(&clock)
	first := written(t, w, 0, "v1", 7)
	second := mustBuild(t, w, "g-table", 0)
	if v, _ := contents(t, second, "k"); v != "" {
		t.Errorf("a store asked for while open was shared: k=%q", v)
	}
	_ = second.Set("k", []byte("v2"))
	_ = second.SetOffset(8)
	// Closing the first, superseded handle keeps nothing.
	_ = first.Close()
	_ = second.Close()
	if v, _ := contents(t, mustBuild(t, w, "g-table", 0), "k"); v != "v2" {
		t.Errorf("kept store: k=%q, want the second session's v2", v)
	}
}

func TestWarmStoresWritesDropStoresUnownedTooLong(t *testing.T) {
	clock := time.Unix(0, 0)
	w := newTestWarmStores(&clock)
	unowned := written(t, w, 0, "v1", 7)
	_ = unowned.Close()
	w.mu.Lock()
	_, keptAtClose := w.stores[0]
	w.mu.Unlock()
	if !keptAtClose {
		t.Fatal("a confirmed store is not kept at close")
	}
	owned := mustBuild(t, w, "g-table", 1)
	clock = clock.Add(warmTTL + sweepEvery)
	// No rebalance builds or closes a store; a write to an owned one sweeps.
	if err := owned.Set("k", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	w.mu.Lock()
	_, keptUnowned := w.stores[0]
	_, keptOwned := w.stores[1]
	w.mu.Unlock()
	if keptUnowned {
		t.Errorf("a store unowned for longer than %s is still kept after a write elsewhere", warmTTL)
	}
	if !keptOwned {
		t.Errorf("the store in use was dropped")
	}
}
