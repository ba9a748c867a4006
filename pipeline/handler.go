package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"go.opentelemetry.io/otel/trace"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/processors"
)

// errStopping fails a callback that is still retrying when the processor
// stops: the message is not committed and is redelivered on restart.
var errStopping = errors.New("pipeline stopping while the message was retried")

// encoder writes one output's values. encode gets the processor's context, so
// that a registry call stops when the processor does.
type encoder struct {
	topic  string
	encode func(context.Context, any) ([]byte, error)
}

// handler processes one pipeline's messages. Its callback is goka's: it runs
// once per message, per partition in order, and returns only when the
// message is processed, filtered or dead-lettered.
type handler struct {
	p   *Pipeline
	log *slog.Logger
	// decode gets the processor's context (see encoder).
	decode  func(context.Context, []byte) (any, error)
	outputs map[string]encoder
	// table is the codec of the group table's entries (nil when stateless).
	table *tableCodec
	// parts is what each partition's messages reuse: scratch memory for
	// expressions and a cache of decoded table entries.
	parts *partitions
	// lookupTables maps a looked-up pipeline's name to its group table, and
	// lookupCodecs to the codec of its entries.
	lookupTables map[string]goka.Table
	lookupCodecs map[string]*tableCodec
	stats        *stats
	// m are the pipeline's Prometheus instruments (metrics.go).
	m *pipelineMetrics
	// holdLogEvery limits how often a held message is logged.
	holdLogEvery time.Duration
	// breaker holds the partitions instead of dead-lettering a flood of
	// failures of one stage and kind; letters logs dead letters at WARN.
	breaker *breaker
	letters *letterLog

	// inputs notes what goka drops of each consumed record (see inputRecord).
	inputs *inputRecords
	// limit is the largest record the pipeline writes (set before it runs).
	limit sizeLimit
	// sender writes outputs and dead letters; a new processor run sets it.
	senderMu sync.Mutex
	sender   sender

	heldMu sync.Mutex
	held   int // partitions held now, waiting for a dependency or the breaker

	// tracer traces each message (see trace.go); nil is tracing off.
	tracer trace.Tracer

	// history is the input history the processor runs in (history.go), set
	// before each processor run; a stateless pipeline's is zero.
	history atomic.Pointer[inputHistory]
	// win closes the windows of a pipeline with a window step (nil without).
	win *windowRuntime
}

// attemptResult is the outcome of one try at a message.
type attemptResult struct {
	msg *processors.Message
	// message is what msg points to: the message lives in its result, one
	// allocation for both.
	message processors.Message
	emits   []outRecord
	// dropped is true when a step dropped the message.
	dropped bool
	// table is the encoded table entry to write, nil for none; entry is
	// the same entry decoded.
	table encodedEntry
	entry *TableEntry
	// one holds the emits of a message with a single output record, which
	// is most: no slice of its own.
	one [1]outRecord
}

// inbound is what every attempt at a message starts from, read once: the
// decoded value and the key's table entry.
type inbound struct {
	raw  []byte
	meta processors.Meta
	in   inputRecord
	// value is the decoded value once decoding succeeded.
	value   any
	decoded bool
	// part is what the partition's messages reuse, cache its entry cache;
	// stored is the key's table entry (nil for a new key), read once.
	part   *partitionState
	cache  *entryCache
	stored *TableEntry
	read   bool
}

// attemptFailure says why a try failed and how to go on.
type attemptFailure struct {
	stage string
	err   error
	// transient failures are retried; hold ones (a dependency is down) are
	// retried until they succeed, never dead-lettered.
	transient bool
	hold      bool
	retry     Retry
	// kind is the dead-letter kind when it is neither poison nor
	// exhausted: oversize.
	kind string
}

// deadLetterKind is the kind of the dead letter a failure makes.
func (f *attemptFailure) deadLetterKind() string {
	switch {
	case f.kind != "":
		return f.kind
	case f.transient:
		return deadletter.KindExhausted
	}
	return deadletter.KindPoison
}

func (r *handler) callback(ctx goka.Context, msg any) {
	consumed := time.Now() // the start of sluice_message_duration_seconds
	raw, _ := msg.([]byte)
	meta := messageMeta(ctx)
	in := r.inputRecord(ctx)
	if to, ok := replayedFor(in); ok && to != r.p.Name {
		// `dlq replay` addressed it to another pipeline reading this topic.
		r.finish(outcomeReplayForOther, consumed)
		return
	}
	span := r.startSpan(ctx, meta, &in)
	defer span.end()
	var heldSince time.Time
	var lastLog time.Time
	// The partition stops waiting however the callback ends, including the
	// panic of ctx.Fail when the processor stops during a hold.
	defer func() {
		if !heldSince.IsZero() {
			r.setHeld(-1)
		}
	}()
	// tries counts the attempts at the message; holds counts the waits for
	// a dependency or for the dead-letter breaker. A wait says nothing about
	// the message, so it neither uses up the message's retries nor counts in
	// sluice.attempts.
	tries, holds := 1, 0
	// breakerHeld is true once the open breaker held this message.
	breakerHeld := false
	part := r.parts.partition(meta.Partition)
	if r.win != nil {
		idx := r.windows(ctx, part)
		idx.processed = max(idx.processed, meta.Offset)
	}
	inb := &inbound{raw: raw, meta: meta, in: in, part: part, cache: part.cache}
	for {
		began := r.breaker.now()
		res, fail := r.attempt(ctx, inb)
		if fail != nil && ctx.Context().Err() != nil {
			// The processor is stopping (shutdown or rebalance): the failure
			// may be the cancellation itself, so leave the message
			// uncommitted for redelivery rather than judge it.
			r.abort(ctx)
		}
		if fail == nil {
			if !heldSince.IsZero() {
				r.log.Info("dependency back, message processed", "partition", meta.Partition, "offset", meta.Offset, "held", time.Since(heldSince).Round(time.Millisecond))
			}
			if breakerHeld && r.breaker.heldSucceeded() {
				r.log.Info("dead-letter breaker closed: a message it held succeeded", "partition", meta.Partition, "offset", meta.Offset)
			}
			span.processed(res, tries)
			r.apply(ctx, res, inb, consumed)
			r.breaker.passed()
			return
		}
		why := "a dependency is unavailable"
		switch {
		case fail.hold:
		case fail.transient && tries < fail.retry.Attempts:
			r.retried(fail.stage)
			span.retried(fail, tries)
			r.log.Debug("retrying message", "stage", fail.stage, "partition", meta.Partition, "offset", meta.Offset, "attempt", tries, "error", fail.err)
			r.sleep(ctx, backoff(fail.retry, tries))
			tries++
			continue
		default:
			kind := fail.deadLetterKind()
			hold, trip := r.breaker.deadLetter(fail.stage, kind, fail.err, began, breakerHeld)
			if trip != nil {
				r.log.Error("dead-letter breaker open: holding the partitions instead of dead-lettering", "reason", r.breaker.snapshot().Reason, "stage", fail.stage, "kind", kind, "dead_letters", trip.count, "messages", trip.total, "partition", meta.Partition, "offset", meta.Offset)
			}
			if !hold {
				span.deadLettered(fail.stage, kind, fail.err, tries)
				r.deadLetter(ctx, raw, meta, in, failure{stage: fail.stage, kind: kind, err: fail.err, attempts: tries}, consumed)
				r.letters.add(fail.stage, kind, meta.Partition, meta.Offset, fail.err)
				return
			}
			breakerHeld = true
			why = "the dead-letter breaker is open"
		}
		// Hold the partition: try the message again after a pause.
		holds++
		if heldSince.IsZero() {
			heldSince = time.Now()
			r.setHeld(+1)
			span.held(why, fail)
		}
		if time.Since(lastLog) >= r.holdLogEvery {
			lastLog = time.Now()
			r.log.Warn("holding partition: "+why, "stage", fail.stage, "partition", meta.Partition, "offset", meta.Offset, "attempt", holds, "error", fail.err)
		}
		r.stats.wait()
		r.sleep(ctx, backoff(fail.retry, holds))
	}
}

// setHeld adds delta to the number of partitions held for a dependency: the
// pipeline shows waiting while any partition is held, not only the last
// one to change.
func (r *handler) setHeld(delta int) {
	r.heldMu.Lock()
	defer r.heldMu.Unlock()
	r.held += delta
	r.stats.setWaiting(r.held > 0)
}

// sleep waits d, or aborts the callback when the processor stops meanwhile.
// ctx.Fail panics only while the processor runs; once its context is done it
// records the error and returns, and a callback that then returned would
// have its message committed (a held message skipped) or, in a retry loop,
// spin without pause. So sleep panics itself: goka recovers the panic and
// leaves the message uncommitted, to be redelivered.
func (r *handler) sleep(ctx goka.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Context().Done():
		r.abort(ctx)
	}
}

// abort ends the callback without committing its message (see sleep).
func (r *handler) abort(ctx goka.Context) {
	ctx.Fail(errStopping)
	panic(errStopping)
}

// backoff is exponential with jitter: a random duration in [d/2, d] where
// d doubles from InitialBackoff up to MaxBackoff.
func backoff(p Retry, attempt int) time.Duration {
	d := p.InitialBackoff
	for i := 1; i < attempt && d < p.MaxBackoff; i++ {
		d *= 2
	}
	if d > p.MaxBackoff {
		d = p.MaxBackoff
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(d-half)+1))
}

func messageMeta(ctx goka.Context) processors.Meta {
	meta := processors.Meta{
		Topic:     string(ctx.Topic()),
		Partition: ctx.Partition(),
		Offset:    ctx.Offset(),
		Timestamp: ctx.Timestamp(),
	}
	if h := ctx.Headers(); len(h) > 0 {
		meta.Headers = make(map[string]string, len(h))
		for k, v := range h {
			meta.Headers[k] = string(v)
		}
	}
	return meta
}

// attempt runs the message through decode, the steps and the encoders. It
// changes nothing outside the returned result and inb's once-read inputs,
// so it can be repeated.
func (r *handler) attempt(ctx goka.Context, inb *inbound) (*attemptResult, *attemptFailure) {
	meta, in := inb.meta, inb.in
	if !inb.decoded {
		value, err := r.decode(ctx.Context(), inb.raw)
		if err != nil {
			return nil, r.classify(deadletter.StageDecode, err, r.p.Retry)
		}
		inb.value, inb.decoded = value, true
	}
	res := &attemptResult{message: *processors.NewMessage(ctx.Key(), inb.value, meta)}
	m := &res.message
	res.msg = m
	m.Reuse(&inb.part.scratch)
	res.emits = res.one[:0]
	hist := r.currentHistory()
	if r.p.Stateful() {
		stored, err := r.stored(ctx, inb, hist)
		if err != nil {
			return nil, r.classify(deadletter.StageState, err, r.p.Retry)
		}
		if stored != nil {
			replayed := stored.redelivery(meta.Partition, meta.Offset, hist.History)
			m.LoadState(stored.State, replayed)
			if replayed {
				r.m.replayed()
			}
		}
		if r.win != nil {
			ws := &processors.Windows{StreamTime: r.windows(ctx, inb.part).streamTime}
			if stored != nil && stored.Windows != nil {
				ws.Open = stored.Windows.Open
			}
			m.LoadWindows(ws)
		}
	}
	if len(r.lookupTables) > 0 {
		m.SetLookup(func(table, key string) (map[string]any, error) {
			t, ok := r.lookupTables[table]
			if !ok {
				return nil, fmt.Errorf("table of pipeline %q is not subscribed", table)
			}
			switch e := ctx.Lookup(t, key).(type) {
			case *TableEntry:
				if e != nil {
					return e.State, nil
				}
			case badEntry:
				return nil, fmt.Errorf("table of pipeline %q, key %q: %w", table, key, e.err)
			}
			return nil, nil
		})
	}
	var windowed []outRecord
	for i, s := range r.p.Steps {
		stepBegan := r.m.stepStart()
		out, err := s.Impl.Process(ctx.Context(), m)
		r.m.stepDone(i, stepBegan)
		if err != nil {
			return nil, r.classify(s.Type, err, s.Retry)
		}
		if r.win != nil && i == r.win.step {
			// The steps after the window step run once per window it
			// publishes (see windows.go).
			var fail *attemptFailure
			if windowed, fail = r.windowTail(ctx, m, m.WindowsToEmit(), &in); fail != nil {
				return nil, fail
			}
			res.dropped = out == processors.Drop
			break
		}
		if out == processors.Drop {
			res.dropped = true
			break
		}
	}
	emits, fail := r.encodeEmits(ctx, res.emits, m.Emits(), in.key, outputHeaders(r.p.Headers, in.headers))
	if fail != nil {
		return nil, fail
	}
	res.emits = append(emits, windowed...)
	if r.p.Stateful() {
		var entry *TableEntry
		switch {
		case m.StateChanged():
			entry = &TableEntry{State: m.State(), Partition: meta.Partition, Offset: meta.Offset, History: hist.History, Windows: m.Windows()}
		case m.Replayed() && !res.dropped && inb.stored != nil:
			// Rewrite the stored state, in case the crash came between this
			// message's table write and its commit.
			entry = inb.stored
		}
		if entry != nil {
			b, err := r.table.Encode(entry)
			if err != nil {
				return nil, r.classify(deadletter.StageState, err, r.p.Retry)
			}
			if err := r.limit.check(recordSize([]byte(ctx.Key()), b, nil)); err != nil {
				return nil, oversize(deadletter.StageState, fmt.Errorf("table entry of key %q: %w", ctx.Key(), err))
			}
			res.table, res.entry = b, entry
		}
	}
	return res, nil
}

// encodeEmits appends the records steps emitted, encoded, to recs (so a
// message's one output lands in its result's own array); inputKey and
// headers are the input record's key and the headers outputs carry.
func (r *handler) encodeEmits(ctx goka.Context, recs []outRecord, emits []processors.Emit, inputKey []byte, headers []sarama.RecordHeader) ([]outRecord, *attemptFailure) {
	for _, e := range emits {
		enc, ok := r.outputs[e.Output]
		if !ok {
			// Built-in steps are checked at load; a custom step may still
			// name an output that does not exist.
			return nil, r.classify(deadletter.StageEmit, fmt.Errorf("no output named %q in pipeline %s", e.Output, r.p.Name), r.p.Retry)
		}
		b, err := enc.encode(ctx.Context(), e.Value)
		if err != nil {
			return nil, r.classify(deadletter.StageEncode, fmt.Errorf("output %s: %w", e.Output, err), r.p.Retry)
		}
		rec := outRecord{topic: enc.topic, key: outputKey(e.Key, inputKey), value: b, headers: headers}
		if err := r.limit.check(recordSize(rec.key, rec.value, rec.headers)); err != nil {
			return nil, oversize(deadletter.StageEmit, fmt.Errorf("output %s: %w", e.Output, err))
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// stored returns the key's table entry, from the partition's cache or else
// from the table (then cached), read once per message. An entry that does
// not decode is an error (the message is dead-lettered at stage state, the
// processor goes on); one written before the state was last cleared is
// none.
func (r *handler) stored(ctx goka.Context, inb *inbound, hist inputHistory) (*TableEntry, error) {
	if inb.read {
		return inb.stored, nil
	}
	key := ctx.Key()
	e := inb.cache.get(key)
	if e == nil {
		switch v := ctx.Value().(type) {
		case *TableEntry:
			e = v
		case badEntry:
			return nil, fmt.Errorf("the table entry of key %q cannot be read: %w", key, v.err)
		}
		if e != nil {
			inb.cache.put(key, e)
		}
	}
	if e != nil && hist.void(e) {
		e = nil
	}
	inb.stored, inb.read = e, true
	return e, nil
}

// oversize is the failure of a record that would not fit its topic.
func oversize(stage string, err error) *attemptFailure {
	return &attemptFailure{stage: stage, err: err, kind: deadletter.KindOversize}
}

func (r *handler) classify(stage string, err error, retry Retry) *attemptFailure {
	f := &attemptFailure{stage: stage, err: err, retry: retry}
	switch {
	case codecs.IsUnavailable(err):
		// The registry is away: hold the partition until it is back.
		f.transient, f.hold = true, true
	case errors.Is(err, processors.ErrTransient):
		f.transient = true
	case errors.Is(err, processors.ErrLate):
		f.kind = deadletter.KindLate
	}
	return f
}

// apply writes the state and the outputs of a processed message, and counts
// it once the broker has acknowledged its outputs; consumed is when its
// callback began.
func (r *handler) apply(ctx goka.Context, res *attemptResult, inb *inbound, consumed time.Time) {
	if res.table != nil {
		ctx.SetValue(&res.table) // a pointer: boxing it copies nothing
		// The table holds it now (a failed SetValue fails the processor).
		inb.cache.put(ctx.Key(), res.entry)
	}
	if r.win == nil {
		r.write(ctx, res.emits, res.outcome(), consumed)
		return
	}
	idx := r.windows(ctx, inb.part)
	if e := res.entry; e != nil && e.Windows != nil {
		idx.streamTime = max(idx.streamTime, e.Windows.StreamTime)
		r.indexKey(idx, ctx.Key(), e.Windows, false)
	}
	var then func()
	if len(res.emits) > 0 {
		then = idx.sent(ctx.Key())
	}
	r.writeThen(ctx, res.emits, res.outcome(), consumed, then)
	r.loopDue(ctx, idx)
}

// outcome is filtered when a step dropped the message and it changed
// nothing, processed otherwise.
func (res *attemptResult) outcome() outcome {
	if res.dropped && len(res.emits) == 0 && !res.msg.StateChanged() {
		return outcomeFiltered
	}
	return outcomeProcessed
}

// deadLetter writes the original key and value with the input's headers and
// the failure's. A dead letter that would not fit its topic is written
// without its value, as kind oversize: its source coordinates say where the
// message is.
func (r *handler) deadLetter(ctx goka.Context, raw []byte, meta processors.Meta, in inputRecord, f failure, consumed time.Time) {
	rec := outRecord{topic: r.p.DeadLetter, key: in.key, value: raw,
		headers: deadLetterRecordHeaders(in.headers, deadLetterHeaders(r.p.Name, meta, raw, f))}
	if err := r.limit.check(recordSize(rec.key, rec.value, rec.headers)); err != nil {
		rec = r.valueLess(rec, in, meta, raw, f, err)
	}
	r.write(ctx, []outRecord{rec}, outcomeDeadLettered, consumed)
	r.log.Debug("dead-lettered", "stage", f.stage, "kind", f.kind, "partition", meta.Partition, "offset", meta.Offset, "error", f.err)
}
