package pipeline

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// inputRecord is what goka's message drops of a consumed record: whether
// its key was null (goka hands the callback a string), and its headers in
// order with repeated names (goka hands a map).
type inputRecord struct {
	key     []byte // nil for a null key
	headers []sarama.RecordHeader
}

// inputRecords keeps, per partition, the records goka was handed and has
// not yet passed to the callback, in offset order. The consumer group
// wrapper adds each record before goka sees it; the callback takes it.
type inputRecords struct {
	mu    sync.Mutex
	parts map[int32][]*sarama.ConsumerMessage
}

func newInputRecords() *inputRecords {
	return &inputRecords{parts: map[int32][]*sarama.ConsumerMessage{}}
}

func (in *inputRecords) add(m *sarama.ConsumerMessage) {
	in.mu.Lock()
	in.parts[m.Partition] = append(in.parts[m.Partition], m)
	in.mu.Unlock()
}

// take returns the record at partition and offset, and forgets it and every
// record before it (a rebalance can leave records goka never processed).
// ok is false when the record is unknown: ctx then tells all there is.
func (in *inputRecords) take(ctx goka.Context) (rec inputRecord, ok bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	p, off := ctx.Partition(), ctx.Offset()
	q := in.parts[p]
	for i, m := range q {
		if m.Offset != off {
			continue
		}
		if i == len(q)-1 {
			delete(in.parts, p)
		} else {
			in.parts[p] = q[i+1:]
		}
		rec.key = m.Key
		if len(m.Headers) > 0 {
			rec.headers = make([]sarama.RecordHeader, len(m.Headers))
			for j, h := range m.Headers {
				rec.headers[j] = *h
			}
		}
		return rec, true
	}
	return rec, false
}

// reset forgets every record: a new group session starts after goka stopped
// the partitions of the previous one.
func (in *inputRecords) reset() {
	in.mu.Lock()
	clear(in.parts)
	in.mu.Unlock()
}

// inputRecord returns what goka dropped of the message ctx is about. When the
// record is unknown (goka's tester) the key is taken as given: never null.
func (r *handler) inputRecord(ctx goka.Context) inputRecord {
	if rec, ok := r.inputs.take(ctx); ok {
		return rec
	}
	rec := inputRecord{key: []byte(ctx.Key())}
	for k, v := range ctx.Headers() {
		rec.headers = append(rec.headers, sarama.RecordHeader{Key: []byte(k), Value: v})
	}
	return rec
}

// consumerGroupBuilder wraps the consumer groups build makes so that every
// record goka consumes is noted in r.inputs first.
func (r *handler) consumerGroupBuilder(build goka.ConsumerGroupBuilder) goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		cg, err := build(brokers, group, clientID)
		if err != nil {
			return nil, err
		}
		return notingGroup{ConsumerGroup: cg, inputs: r.inputs, parts: r.parts, topic: r.p.Input.Topic, history: &r.history}, nil
	}
}

// notingGroup is a consumer group whose claims of the input topic note
// their records (a window pipeline's loop topic is consumed too, and its
// offsets are another sequence), whose sessions each start with new
// partition states, and whose commits are in order and carry the input
// history's metadata (see committingSession).
type notingGroup struct {
	sarama.ConsumerGroup
	inputs  *inputRecords
	parts   *partitions
	topic   string
	history *atomic.Pointer[inputHistory]
}

func (g notingGroup) Consume(ctx context.Context, topics []string, h sarama.ConsumerGroupHandler) error {
	return g.ConsumerGroup.Consume(ctx, topics, notingHandler{ConsumerGroupHandler: h, inputs: g.inputs, parts: g.parts,
		topic: g.topic, history: g.history, session: &atomic.Pointer[committingSession]{}})
}

// notingHandler spans the group sessions of one Consume (see sessionLoop);
// session is the one of the moment, made at its Setup.
type notingHandler struct {
	sarama.ConsumerGroupHandler
	inputs  *inputRecords
	parts   *partitions
	topic   string
	history *atomic.Pointer[inputHistory]
	session *atomic.Pointer[committingSession]
}

func (h notingHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.inputs.reset()
	h.parts.reset()
	md := ""
	if hist := h.history.Load(); hist != nil {
		md = hist.metadata()
	}
	cs := newCommittingSession(s, md)
	h.session.Store(cs)
	return h.ConsumerGroupHandler.Setup(cs)
}

// ConsumeClaim hands goka a claim whose messages pass through a goroutine
// that notes each one (its input record, and its place in the session's
// commit order); the goroutine ends with the claim. The channel goka
// reads is buffered like the claim's own, so that the goroutine passes
// messages on in runs rather than waking goka for each one.
func (h notingHandler) ConsumeClaim(_ sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	cs := h.session.Load() // the claim's session, made at its Setup
	if c.Topic() != h.topic {
		return h.ConsumerGroupHandler.ConsumeClaim(cs, c)
	}
	out := make(chan *sarama.ConsumerMessage, cap(c.Messages()))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(out)
		for {
			select {
			case m, ok := <-c.Messages():
				if !ok {
					return
				}
				h.inputs.add(m)
				cs.delivered(m)
				select {
				case out <- m:
				case <-done:
					return
				}
			case <-done:
				return
			}
		}
	}()
	err := h.ConsumerGroupHandler.ConsumeClaim(cs, notedClaim{ConsumerGroupClaim: c, messages: out})
	close(done)
	wg.Wait()
	return err
}

type notedClaim struct {
	sarama.ConsumerGroupClaim
	messages chan *sarama.ConsumerMessage
}

func (c notedClaim) Messages() <-chan *sarama.ConsumerMessage { return c.messages }
