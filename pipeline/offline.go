package pipeline

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/sluicehq/sluice/codecs"
)

// Offline runs pipelines without a broker, in goka's tester: the same
// handler, steps, codecs, group graphs and dead letters as Run, over
// in-memory topics and tables, one message at a time. `sluice test` drives
// it. opts.Registry must be set when a pipeline reads or writes Avro (an
// in-memory registry: nothing here connects anywhere).
type Offline struct {
	sv     *Supervisor
	tt     *tester.Tester
	t      *offlineT
	cancel context.CancelFunc
	done   chan error
	// tracks read each topic's records from where the last read stopped.
	tracks map[string]*tester.QueueTracker
}

// OfflineRecord is one record a pipeline wrote: an output or a dead letter.
type OfflineRecord struct {
	Key     string
	Value   []byte
	Headers map[string]string
}

// NewOffline starts the pipelines of cfg named in opts.Only (all when
// empty) in a tester of their own. Close stops them.
func NewOffline(cfg *Config, opts Options) (*Offline, error) {
	if len(opts.Brokers) == 0 {
		opts.Brokers = []string{"offline:9092"} // never dialled: goka's tester stands in for Kafka
	}
	sv, err := New(cfg, opts)
	if err != nil {
		return nil, err
	}
	o := &Offline{sv: sv, t: &offlineT{}, done: make(chan error, len(sv.runs)), tracks: map[string]*tester.QueueTracker{}}
	o.tt = tester.New(o.t)
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	started := 0
	for _, run := range sv.runs {
		hasher, err := Hasher(cfg.Kafka.Partitioner, 1)
		if err == nil {
			run.proc, err = goka.NewProcessor(nil, sv.groupGraph(run), goka.WithTester(o.tt), goka.WithHasher(hasher),
				goka.WithNilHandling(goka.NilProcess),
				goka.WithLogger(gokaLogger{sv.log.With("pipeline", run.p.Name, "component", "goka")}),
				goka.WithProducerBuilder(run.producerBuilder(o.tt.ProducerBuilder())),
				goka.WithConsumerGroupBuilder(run.consumerGroupBuilder(o.tt.ConsumerGroupBuilder())))
		}
		if err != nil {
			o.stop(started)
			return nil, fmt.Errorf("pipeline %s: %w", run.p.Name, err)
		}
		proc := run.proc
		go func() { o.done <- proc.Run(ctx) }()
		started++
	}
	return o, nil
}

// Send has the pipelines reading topic consume one record and returns when
// they have processed it (outputs written, state stored, or dead-lettered).
// A nil value is a tombstone; ts zero is the time of the call.
func (o *Offline) Send(topic, key string, value []byte, headers map[string][]byte, ts time.Time) error {
	var opts []tester.EmitOption
	if len(headers) > 0 {
		opts = append(opts, tester.WithHeaders(goka.Headers(headers)))
	}
	if !ts.IsZero() {
		opts = append(opts, tester.WithTime(ts))
	}
	var msg any
	if value != nil {
		msg = value
	}
	o.tt.Consume(topic, key, msg, opts...)
	return o.t.err()
}

// Records returns the records written to topic since the last call for it.
func (o *Offline) Records(topic string) []OfflineRecord {
	tr, ok := o.tracks[topic]
	if !ok {
		tr = o.tt.NewQueueTracker(topic)
		tr.Seek(0)
		o.tracks[topic] = tr
	}
	var out []OfflineRecord
	for {
		h, key, v, ok := tr.NextRawWithHeaders()
		if !ok {
			return out
		}
		rec := OfflineRecord{Key: key, Value: v, Headers: make(map[string]string, len(h))}
		for k, b := range h {
			rec.Headers[k] = string(b)
		}
		out = append(out, rec)
	}
}

// State returns a key's state in a pipeline's table as JSON values (times as
// Unix milliseconds), like the operations endpoint; nil when the key has none.
func (o *Offline) State(pipelineName, key string) (map[string]any, error) {
	p := o.sv.cfg.Pipeline(pipelineName)
	switch {
	case p == nil:
		return nil, ErrUnknownPipeline
	case !p.Stateful():
		return nil, ErrStateless
	}
	e, _ := o.tt.TableValue(goka.GroupTable(goka.Group(p.Group)), key).(*TableEntry)
	if e == nil {
		return nil, nil
	}
	out, _ := codecs.ToJSON(e.State).(map[string]any)
	return out, nil
}

// Close stops the pipelines and returns what went wrong while they ran.
func (o *Offline) Close() error {
	return errors.Join(o.stop(len(o.sv.runs)), o.t.err())
}

func (o *Offline) stop(started int) error {
	o.cancel()
	var errs []error
	for range started {
		if err := <-o.done; err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// offlineT is the tester's view of a test: it collects what the tester
// reports (a topic nobody registered, a codec that failed) as errors.
type offlineT struct {
	mu   sync.Mutex
	errs []error
}

func (t *offlineT) Errorf(format string, args ...any) { t.add(fmt.Errorf(format, args...)) }
func (t *offlineT) Fatalf(format string, args ...any) { t.add(fmt.Errorf(format, args...)) }
func (t *offlineT) Fatal(args ...any)                 { t.add(errors.New(fmt.Sprint(args...))) }

func (t *offlineT) add(err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.errs = append(t.errs, err)
}

func (t *offlineT) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return errors.Join(t.errs...)
}
