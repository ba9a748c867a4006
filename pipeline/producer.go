package pipeline

import (
	"fmt"
	"hash"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// outRecord is a record the handler writes: an output or a dead letter.
type outRecord struct {
	topic   string
	key     []byte // nil is a null key
	value   []byte // nil is a null value
	headers []sarama.RecordHeader
}

// sender writes the handler's records. It calls ack.acked once, when the
// broker acknowledged the record or with the error that kept it from doing
// so.
type sender interface {
	send(rec outRecord, ack acker)
}

// acker is told the outcome of a record's write.
type acker interface {
	acked(err error)
}

// producer is the Kafka producer of one processor run. goka writes its
// table updates through it (it is a goka.Producer), and the handler its
// outputs and dead letters (send), with what goka's own producer cannot
// write: a null key, and headers in their order with repeated names.
type producer struct {
	ap sarama.AsyncProducer
	wg sync.WaitGroup
}

// producerCloseTimeout bounds waiting for the acknowledgements of records
// in flight when the producer closes, as goka's producer does.
const producerCloseTimeout = 60 * time.Second

// producerBuilder returns the goka.ProducerBuilder of a pipeline's
// processor: a producer configured by cfg that places keys with goka's
// hasher, like goka's own.
func producerBuilder(cfg *sarama.Config) goka.ProducerBuilder {
	return func(brokers []string, clientID string, hasher func() hash.Hash32) (goka.Producer, error) {
		c := *cfg // each producer its own: the clients built before read cfg
		c.ClientID = clientID
		c.Producer.Partitioner = sarama.NewCustomHashPartitioner(hasher)
		return newProducer(brokers, &c)
	}
}

func newProducer(brokers []string, cfg *sarama.Config) (*producer, error) {
	ap, err := sarama.NewAsyncProducer(brokers, cfg)
	if err != nil {
		return nil, fmt.Errorf("starting Kafka producer: %w", err)
	}
	p := &producer{ap: ap}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		for e := range ap.Errors() {
			acknowledge(e.Msg, e.Err)
		}
	}()
	go func() {
		defer p.wg.Done()
		for m := range ap.Successes() {
			acknowledge(m, nil)
		}
	}()
	return p, nil
}

// Emit and EmitWithHeaders are goka's: table writes keyed by a string.
func (p *producer) Emit(topic string, key string, value []byte) *goka.Promise {
	return p.EmitWithHeaders(topic, key, value, nil)
}

func (p *producer) EmitWithHeaders(topic string, key string, value []byte, headers goka.Headers) *goka.Promise {
	return p.produce(&sarama.ProducerMessage{
		Topic:   topic,
		Key:     sarama.StringEncoder(key),
		Value:   sarama.ByteEncoder(value),
		Headers: headers.ToSarama(),
	})
}

// send writes an output or a dead letter. Its acknowledgement calls ack
// straight from the producer's goroutine: no goka.Promise per record.
func (p *producer) send(rec outRecord, ack acker) {
	msg := &sarama.ProducerMessage{Topic: rec.topic, Value: sarama.ByteEncoder(rec.value), Headers: rec.headers, Metadata: ack}
	if rec.key != nil {
		msg.Key = sarama.ByteEncoder(rec.key)
	}
	p.ap.Input() <- msg
}

func (p *producer) produce(msg *sarama.ProducerMessage) *goka.Promise {
	promise, finish := goka.NewPromiseWithFinisher()
	msg.Metadata = finish
	p.ap.Input() <- msg
	return promise
}

// acknowledge passes a record's outcome to whoever wrote it: goka (a
// promise) or the handler (send's ack).
func acknowledge(msg *sarama.ProducerMessage, err error) {
	switch done := msg.Metadata.(type) {
	case goka.PromiseFinisher:
		done(msg, err)
	case acker:
		done.acked(err)
	}
}

// Close flushes the records in flight and waits (a bounded time) for their
// acknowledgements, so that every promise is resolved.
func (p *producer) Close() error {
	p.ap.AsyncClose()
	drained := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(drained)
	}()
	t := time.NewTimer(producerCloseTimeout)
	defer t.Stop()
	select {
	case <-drained:
		return nil
	case <-t.C:
		return fmt.Errorf("closing Kafka producer: records still unacknowledged after %s", producerCloseTimeout)
	}
}

// gokaSender adapts another goka.Producer (goka's tester) to sender. It
// writes a null key as an empty one and keeps the last of repeated headers:
// goka's producer can do no better.
type gokaSender struct{ goka.Producer }

func (s gokaSender) send(rec outRecord, ack acker) {
	var h goka.Headers
	if len(rec.headers) > 0 {
		h = make(goka.Headers, len(rec.headers))
		for _, rh := range rec.headers {
			h[string(rh.Key)] = rh.Value
		}
	}
	s.EmitWithHeaders(rec.topic, string(rec.key), rec.value, h).Then(ack.acked)
}

// senderOf returns the sender of a processor's producer.
func senderOf(p goka.Producer) sender {
	if s, ok := p.(sender); ok {
		return s
	}
	return gokaSender{p}
}
