package pipeline

import (
	"container/heap"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/sluicehq/sluice/processors"
)

// How a pipeline with a window step closes its windows.
//
// The window step (processors/step_window.go) keeps each key's windows in
// the key's table entry, with the partition's stream time as of the write.
// A window of key A may close when a record of key B advances stream time,
// but a goka callback writes only its own key's entry. So each partition
// keeps in memory an index of the keys' windows by close time, rebuilt from
// the table's storage when a group session first meets the partition (the
// partition's stream time is the largest one its entries hold: every
// record that reached the window step wrote its key's entry). When stream
// time reaches a window's close time, the runtime sends a loopback message
// (goka's loop topic, <group>-loop, keyed like the input) to the window's
// key; processing it, in that key's context:
//
//  1. removes the key's closed windows whose last output the broker has
//     acknowledged (with on_update, after a restart, only once the
//     partition has consumed past the records the table already held: a
//     redelivered record publishes its windows again, so they must still
//     be there);
//  2. with emit: on_close, publishes each newly closed window once, through
//     the steps after the window step;
//  3. when a closed window is left (its output not acknowledged yet), sends
//     itself another loopback, until it can be removed.
//
// A window is thus removed only after its final output is written: after a
// crash, the table still holds every window whose output may be lost, and
// the rebuilt index publishes them again. Final results are exact and
// published at least once (a crash can repeat one, never lose one), like
// aggregate's last output per key. A stop between a window's acknowledged
// output and its removal (milliseconds) publishes it again after the
// restart.
type windowRuntime struct {
	closer processors.WindowCloser
	// step is the window step's position in the pipeline's steps.
	step int

	storesMu sync.Mutex
	stores   map[int32]storage.Storage // the group table's, by partition
}

// loopTick is the value of a loopback: "look at your windows".
var loopTick = []byte{1}

// windowStep returns the pipeline's window step and its position.
func windowStep(p *Pipeline) (processors.WindowCloser, int, bool) {
	for i, s := range p.Steps {
		if c, ok := s.Impl.(processors.WindowCloser); ok {
			return c, i, true
		}
	}
	return nil, 0, false
}

func newWindowRuntime(p *Pipeline) *windowRuntime {
	c, i, ok := windowStep(p)
	if !ok {
		return nil
	}
	return &windowRuntime{closer: c, step: i, stores: map[int32]storage.Storage{}}
}

// trackStores wraps build so that the runtime can read each partition of
// the group table's storage to rebuild its index.
func (w *windowRuntime) trackStores(table string, build storage.Builder) storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		st, err := build(topic, partition)
		if err == nil && topic == table {
			w.storesMu.Lock()
			w.stores[partition] = st
			w.storesMu.Unlock()
		}
		return st, err
	}
}

func (w *windowRuntime) store(partition int32) storage.Storage {
	w.storesMu.Lock()
	defer w.storesMu.Unlock()
	return w.stores[partition]
}

// windowIndex is one partition's windows by close time. Only the
// partition's callback uses it, but for inflight, which the producer's
// acknowledgements change too.
type windowIndex struct {
	streamTime int64
	keys       map[string]*keyWindows
	due        dueQueue
	// replayUntil is the largest input offset the table held when the
	// index was built, processed the last input offset processed since.
	replayUntil, processed int64

	// pending are keys whose closed windows wait for the partition to
	// consume past replayUntil to be removed.
	pending map[string]bool

	mu sync.Mutex
	// inflight counts each key's messages whose records the broker has not
	// acknowledged yet (the producer's acknowledgements change it).
	inflight map[string]int
}

// keyWindows is what the index knows of one key's windows.
type keyWindows struct {
	// closes are the close times of the entry's windows.
	closes []int64
	// emittedUpTo: the windows closing at or before it were published.
	emittedUpTo int64
	// queued is the close time the key is queued at in due (NoStreamTime:
	// none), looping says a loopback to the key is on its way.
	queued  int64
	looping bool
}

// windows returns partition part's index, built from the table's storage
// the first time a group session meets the partition.
func (r *handler) windows(ctx goka.Context, part *partitionState) *windowIndex {
	if part.windows != nil {
		return part.windows
	}
	idx := &windowIndex{streamTime: processors.NoStreamTime, keys: map[string]*keyWindows{},
		replayUntil: -1, processed: -1, inflight: map[string]int{}, pending: map[string]bool{}}
	if st := r.win.store(ctx.Partition()); st != nil {
		if err := r.scanWindows(st, idx); err != nil {
			ctx.Fail(fmt.Errorf("reading the windows of partition %d: %w", ctx.Partition(), err))
		}
	}
	part.windows = idx
	return idx
}

// scanWindows fills idx from the entries of a partition's table.
func (r *handler) scanWindows(st storage.Storage, idx *windowIndex) error {
	it, err := st.Iterator()
	if err != nil {
		return err
	}
	defer it.Release()
	for it.Next() {
		v, err := it.Value()
		if err != nil {
			return err
		}
		d, err := r.table.Decode(v)
		if err != nil {
			return fmt.Errorf("key %q: %w", it.Key(), err)
		}
		e, _ := d.(*TableEntry)
		if e == nil || e.Windows == nil {
			continue
		}
		idx.streamTime = max(idx.streamTime, e.Windows.StreamTime)
		idx.replayUntil = max(idx.replayUntil, e.Offset)
		r.indexKey(idx, string(it.Key()), e.Windows, true)
	}
	return it.Err()
}

// indexKey notes key's windows. With closed, windows already closed are
// queued too (a rebuilt index publishes them again).
func (r *handler) indexKey(idx *windowIndex, key string, ws *processors.Windows, closed bool) {
	kw := idx.keys[key]
	if kw == nil {
		kw = &keyWindows{emittedUpTo: processors.NoStreamTime, queued: processors.NoStreamTime}
		idx.keys[key] = kw
	}
	kw.closes = kw.closes[:0]
	next := processors.NoStreamTime
	for _, w := range ws.Open {
		at := r.win.closer.CloseAt(w)
		kw.closes = append(kw.closes, at)
		if (closed || at > idx.streamTime) && (next == processors.NoStreamTime || at < next) {
			next = at
		}
	}
	if len(kw.closes) == 0 {
		delete(idx.keys, key)
		return
	}
	if next != processors.NoStreamTime && (kw.queued == processors.NoStreamTime || next < kw.queued) {
		kw.queued = next
		heap.Push(&idx.due, dueKey{at: next, key: key})
	}
}

// loopDue sends a loopback to each key with a window that stream time has
// closed, and, once the partition has consumed past the records its table
// held when the index was built, to each key whose removal waited for that.
func (r *handler) loopDue(ctx goka.Context, idx *windowIndex) {
	for idx.due.Len() > 0 && idx.due[0].at <= idx.streamTime {
		d := heap.Pop(&idx.due).(dueKey)
		kw := idx.keys[d.key]
		if kw == nil || kw.queued != d.at {
			continue // stale
		}
		kw.queued = processors.NoStreamTime
		if !kw.looping {
			kw.looping = true
			ctx.Loopback(d.key, loopTick)
		}
	}
	if len(idx.pending) == 0 || idx.processed < idx.replayUntil {
		return
	}
	ready := slices.Sorted(maps.Keys(idx.pending))
	clear(idx.pending)
	for _, key := range ready {
		if kw := idx.keys[key]; kw != nil && !kw.looping {
			kw.looping = true
			ctx.Loopback(key, loopTick)
		}
	}
}

// sent counts a message of key whose records are on their way; the
// returned function is called once the broker acknowledged them all.
func (idx *windowIndex) sent(key string) func() {
	idx.mu.Lock()
	idx.inflight[key]++
	idx.mu.Unlock()
	return func() {
		idx.mu.Lock()
		if idx.inflight[key]--; idx.inflight[key] <= 0 {
			delete(idx.inflight, key)
		}
		idx.mu.Unlock()
	}
}

// loopCallback handles a loopback to a key: it removes the key's closed
// windows that are published, and publishes those that just closed.
func (r *handler) loopCallback(ctx goka.Context, _ any) {
	part := r.parts.partition(ctx.Partition())
	idx := r.windows(ctx, part)
	key := ctx.Key()
	kw := idx.keys[key]
	if kw != nil {
		kw.looping = false
	}
	inb := &inbound{meta: messageMeta(ctx), part: part, cache: part.cache}
	stored, err := r.stored(ctx, inb, r.currentHistory())
	if err != nil {
		r.log.Error("closing windows: the key's table entry cannot be read", "key", key, "error", err)
	}
	if stored == nil || stored.Windows == nil || kw == nil {
		r.loopDue(ctx, idx)
		return
	}
	onClose := r.win.closer.EmitOnClose()
	removable := idx.streamTime
	if onClose {
		removable = kw.emittedUpTo
	}
	idx.mu.Lock()
	canRemove := idx.inflight[key] == 0 && (onClose || idx.processed >= idx.replayUntil)
	idx.mu.Unlock()
	var kept []processors.Window
	var toEmit []processors.Window
	waiting := false
	for _, w := range stored.Windows.Open {
		at := r.win.closer.CloseAt(w)
		switch {
		case at > idx.streamTime:
			kept = append(kept, w) // open
		case at <= removable && canRemove:
			// published and acknowledged: removed
		case onClose && at > kw.emittedUpTo:
			toEmit = append(toEmit, w)
			kept = append(kept, w)
			waiting = true
		default:
			kept = append(kept, w)
			waiting = true
		}
	}
	if len(kept) < len(stored.Windows.Open) {
		e := &TableEntry{State: stored.State, Partition: stored.Partition, Offset: stored.Offset, History: stored.History,
			Windows: &processors.Windows{StreamTime: idx.streamTime, Open: kept}}
		b, err := r.table.Encode(e)
		if err != nil {
			ctx.Fail(fmt.Errorf("writing the windows of key %q: %w", key, err))
		}
		enc := encodedEntry(b)
		ctx.SetValue(&enc)
		inb.cache.put(key, e)
		stored = e
	}
	var recs []outRecord
	if len(toEmit) > 0 {
		recs = r.closeWindows(ctx, key, stored, toEmit)
		kw.emittedUpTo = idx.streamTime
	}
	r.indexKey(idx, key, stored.Windows, false)
	if len(recs) > 0 {
		r.writeThen(ctx, recs, outcomeWindowClosed, inb.meta.Timestamp, idx.sent(key))
	}
	switch {
	case !waiting:
	case !onClose && idx.processed < idx.replayUntil:
		// Removal waits for the records the table holds to come again:
		// the partition's next input message asks again.
		idx.pending[key] = true
	default:
		// Removal waits for the broker's acknowledgement, a matter of
		// milliseconds: ask again at once.
		kw.looping = true
		ctx.Loopback(key, loopTick)
	}
	r.loopDue(ctx, idx)
}

// closeWindows runs the steps after the window step for each closed
// window and returns the records to write. A window whose steps fail for
// good is logged and left out; a transient failure is retried until it
// passes or the processor stops.
func (r *handler) closeWindows(ctx goka.Context, key string, e *TableEntry, closed []processors.Window) []outRecord {
	var recs []outRecord
	for _, w := range closed {
		for attempt := 1; ; attempt++ {
			m := processors.NewMessage(key, nil, processors.Meta{Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset(), Timestamp: ctx.Timestamp()})
			m.LoadState(e.State, false)
			out, fail := r.windowTail(ctx, m, []processors.Window{w}, nil)
			if fail == nil {
				recs = append(recs, out...)
				break
			}
			if ctx.Context().Err() != nil {
				r.abort(ctx)
			}
			if !fail.transient {
				r.log.Error("closed window not published: its steps failed", "key", key, "window_start", w.Start, "window_end", w.End, "stage", fail.stage, "error", fail.err)
				break
			}
			r.sleep(ctx, backoff(fail.retry, attempt))
		}
	}
	return recs
}

// windowTail runs the steps after the window step once per window, the
// value being the window's result, and encodes what they emit.
func (r *handler) windowTail(ctx goka.Context, m *processors.Message, ws []processors.Window, in *inputRecord) ([]outRecord, *attemptFailure) {
	var recs []outRecord
	for _, w := range ws {
		sub := processors.NewMessage(m.Key(), r.win.closer.Result(w), m.Meta())
		sub.LoadState(m.State(), false)
		sub.SetLookup(m.Lookup)
		for name, v := range m.Vars() {
			sub.SetVar(name, v)
		}
		sub.SetVar(processors.VarWindow, map[string]any{"start": time.UnixMilli(w.Start).UTC(), "end": time.UnixMilli(w.End).UTC()})
		for i := r.win.step + 1; i < len(r.p.Steps); i++ {
			s := r.p.Steps[i]
			began := r.m.stepStart()
			out, err := s.Impl.Process(ctx.Context(), sub)
			r.m.stepDone(i, began)
			if err != nil {
				return nil, r.classify(s.Type, err, s.Retry)
			}
			if out == processors.Drop {
				break
			}
		}
		var inKey []byte
		var headers []sarama.RecordHeader
		if in != nil {
			inKey, headers = in.key, outputHeaders(r.p.Headers, in.headers)
		} else {
			inKey = []byte(m.Key())
		}
		var fail *attemptFailure
		if recs, fail = r.encodeEmits(ctx, recs, sub.Emits(), inKey, headers); fail != nil {
			return nil, fail
		}
	}
	return recs, nil
}

// dueKey is a key queued until stream time reaches at.
type dueKey struct {
	at  int64
	key string
}

// dueQueue is a min-heap of keys by close time.
type dueQueue []dueKey

func (q dueQueue) Len() int           { return len(q) }
func (q dueQueue) Less(i, j int) bool { return q[i].at < q[j].at }
func (q dueQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *dueQueue) Push(x any)        { *q = append(*q, x.(dueKey)) }
func (q *dueQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}
