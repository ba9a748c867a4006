package pipeline

import (
	"bytes"
	"fmt"
	"hash"
	"slices"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/processors"
)

// How the handler writes: its records, through the producer of the current
// processor run, counted once the broker acknowledged them.

// valueLess returns the dead letter of f without the message's value, kind
// oversize. Should even that not fit (huge headers or key), it leaves out the
// input's headers, then the key, and shortens the error text: the sluice
// headers always go through.
func (r *handler) valueLess(rec outRecord, in inputRecord, meta processors.Meta, raw []byte, f failure, tooBig error) outRecord {
	r.log.Warn("dead letter too large: writing it without its value", "stage", f.stage, "kind", f.kind,
		"partition", meta.Partition, "offset", meta.Offset, "value_bytes", len(raw), "error", tooBig)
	f.err = fmt.Errorf("value of %d bytes left out of this dead letter, read it at the source coordinates: %w; the message failed as %s: %w",
		len(raw), tooBig, f.kind, f.err)
	f.kind = deadletter.KindOversize
	sluiceHeaders := deadLetterHeaders(r.p.Name, meta, raw, f)
	rec.value = nil
	rec.headers = deadLetterRecordHeaders(in.headers, sluiceHeaders)
	if r.limit.check(recordSize(rec.key, nil, rec.headers)) == nil {
		return rec
	}
	rec.headers = deadLetterRecordHeaders(nil, sluiceHeaders)
	if r.limit.check(recordSize(rec.key, nil, rec.headers)) == nil {
		return rec
	}
	const maxMessage = 1024
	if m := sluiceHeaders[deadletter.HeaderMessage]; len(m) > maxMessage {
		sluiceHeaders[deadletter.HeaderMessage] = m[:maxMessage]
	}
	rec.key = nil
	rec.headers = deadLetterRecordHeaders(nil, sluiceHeaders)
	return rec
}

// write sends a message's records and counts its outcome once the broker has
// acknowledged every one of them (and each record as it is acknowledged).
// Each record holds the message's commit (goka's DeferCommit) until it is
// acknowledged; a failed write fails the processor, and the message,
// uncommitted and uncounted, comes again. consumed is when the message's
// callback began.
func (r *handler) write(ctx goka.Context, recs []outRecord, o outcome, consumed time.Time) {
	r.writeThen(ctx, recs, o, consumed, nil)
}

// writeThen is write that calls then (when not nil) once the broker has
// acknowledged every record.
func (r *handler) writeThen(ctx goka.Context, recs []outRecord, o outcome, consumed time.Time, then func()) {
	if len(recs) == 0 {
		r.finish(o, consumed)
		if then != nil {
			then()
		}
		return
	}
	s := r.currentSender()
	w := &pendingWrite{r: r, o: o, consumed: consumed, then: then}
	w.left.Store(int32(len(recs)))
	acks := w.one[:0]
	if len(recs) > 1 {
		acks = make([]recordAck, 0, len(recs))
	}
	for _, rec := range recs {
		acks = append(acks, recordAck{w: w, rec: rec, done: ctx.DeferCommit()})
		s.send(rec, &acks[len(acks)-1])
	}
}

// pendingWrite is a message's records on their way to the broker.
type pendingWrite struct {
	r        *handler
	o        outcome
	consumed time.Time
	left     atomic.Int32 // records not acknowledged yet
	then     func()       // called once all are acknowledged (may be nil)
	// one is the acknowledgement of a message with a single record, which
	// is most: no allocation of its own.
	one [1]recordAck
}

// recordAck is one record of a pendingWrite, and the commit it holds
// (goka's DeferCommit) until the broker acknowledged it.
type recordAck struct {
	w    *pendingWrite
	rec  outRecord
	done func(error)
}

// acked counts the record's acknowledgement, and the message's outcome with
// its last one, then releases the commit the record held.
func (a *recordAck) acked(err error) {
	if err != nil {
		a.done(fmt.Errorf("writing to %s: %w", a.rec.topic, err))
		return
	}
	w := a.w
	w.r.m.acked(a.rec, w.o)
	if w.left.Add(-1) == 0 {
		w.r.finish(w.o, w.consumed)
		if w.then != nil {
			w.then()
		}
	}
	a.done(nil)
}

// setSender makes the handler write through p, the producer of the
// processor run that is starting.
func (r *handler) setSender(p goka.Producer) {
	r.senderMu.Lock()
	r.sender = senderOf(p)
	r.senderMu.Unlock()
}

func (r *handler) currentSender() sender {
	r.senderMu.Lock()
	defer r.senderMu.Unlock()
	return r.sender
}

// producerBuilder wraps build so that the handler writes through the
// producer of each processor run.
func (r *handler) producerBuilder(build goka.ProducerBuilder) goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		p, err := build(brokers, clientID, hasher)
		if err != nil {
			return nil, err
		}
		r.setSender(p)
		return p, nil
	}
}

// outputKey is the key of an output record: null when the input's key was
// null and the step kept it, the input's own bytes when it is the input's
// key (they are only read), else a copy of key.
func outputKey(key string, inputKey []byte) []byte {
	if key == "" && inputKey == nil {
		return nil
	}
	if inputKey != nil && string(inputKey) == key {
		return inputKey
	}
	return []byte(key)
}

// replayedFor returns the pipeline a replayed record is addressed to (its
// sluice.replay.pipeline header), and whether it names one.
func replayedFor(in inputRecord) (string, bool) {
	to, ok := "", false
	for _, h := range in.headers {
		if string(h.Key) == deadletter.HeaderReplayPipeline {
			to, ok = string(h.Value), true
		}
	}
	return to, ok
}

// sortedHeaders returns h as record headers in name order.
func sortedHeaders(h map[string][]byte) []sarama.RecordHeader {
	out := make([]sarama.RecordHeader, 0, len(h))
	for k, v := range h {
		out = append(out, sarama.RecordHeader{Key: []byte(k), Value: v})
	}
	slices.SortFunc(out, func(a, b sarama.RecordHeader) int { return bytes.Compare(a.Key, b.Key) })
	return out
}
