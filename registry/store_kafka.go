package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// KafkaStoreConfig configures a KafkaStore.
type KafkaStoreConfig struct {
	// Brokers are the seed brokers (host:port). Required.
	Brokers []string
	// ClientOpts are franz-go options applied after the seed brokers: how
	// to connect to a secured cluster (kgo.DialTLSConfig, kgo.SASL). Sluice
	// passes those of internal/kafkaconn, built from its kafka settings.
	ClientOpts []kgo.Opt
	// Topic is the schemas topic; default "_schemas".
	Topic string
	// ReplicationFactor of the topic when the store creates it; default 1.
	ReplicationFactor int16
	// WriteTimeout bounds how long a write may take to reach the broker and be
	// read back (Kafka's delivery.timeout.ms); default 30s, at least 1s.
	WriteTimeout time.Duration
	// Logger receives records the store cannot decode and fetch errors; nil discards.
	Logger *slog.Logger
}

func (c *KafkaStoreConfig) validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("no brokers configured")
	}
	if c.Topic == "" {
		c.Topic = "_schemas"
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = 1
	}
	if c.ReplicationFactor < -1 {
		return fmt.Errorf("invalid replication factor %d", c.ReplicationFactor)
	}
	switch {
	case c.WriteTimeout == 0:
		c.WriteTimeout = 30 * time.Second
	case c.WriteTimeout < time.Second:
		return fmt.Errorf("write timeout %v is below the 1s minimum", c.WriteTimeout)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// KafkaStore keeps the registry in a compacted single-partition Kafka topic in
// Confluent's `_schemas` format. It reads the topic into memory at start and
// follows it; a write returns once the store has read it back, so reads that
// follow a write see it. Only one registry should write to a topic at a time.
type KafkaStore struct {
	cfg KafkaStoreConfig
	cl  *kgo.Client

	writeMu sync.Mutex // one writer at a time: read-check-write is atomic
	// inDoubt (guarded by writeMu) is set when a write failed after its
	// records may have reached the log: the next write first reads the log
	// to its end, so it never computes ids or versions from a state that
	// lacks them.
	inDoubt bool

	mu      sync.RWMutex // guards st, applied, changed
	st      *state
	applied int64         // offset of the last record applied
	changed chan struct{} // closed and replaced whenever applied advances

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

var errStoreClosed = errors.New("schema store closed")

// NewKafkaStore connects to the brokers, creates the topic if it is missing and
// reads it to the end before returning. ctx bounds only this start-up.
func NewKafkaStore(ctx context.Context, cfg KafkaStoreConfig) (*KafkaStore, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("kafka schema store: %w", err)
	}
	opts := append([]kgo.Opt{kgo.SeedBrokers(cfg.Brokers...)}, cfg.ClientOpts...)
	cl, err := kgo.NewClient(append(opts,
		// Admin answers come from franz-go's metadata cache: trust it only
		// briefly, so that the topic created below shows at once.
		kgo.MetadataMinAge(100*time.Millisecond),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerLinger(0),
		// Writes are serialised and re-applying a record is harmless, so
		// idempotence buys nothing here, while without it the delivery
		// timeout is always enforced: a write to a dead broker fails instead
		// of hanging with the writer lock held.
		kgo.DisableIdempotentWrite(),
		kgo.RecordDeliveryTimeout(cfg.WriteTimeout),
		kgo.FetchMaxWait(time.Second),
	)...)
	if err != nil {
		return nil, fmt.Errorf("kafka schema store: creating client: %w", err)
	}
	if err := ensureTopic(ctx, cl, cfg.Topic, cfg.ReplicationFactor); err != nil {
		cl.Close()
		return nil, fmt.Errorf("kafka schema store: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	k := &KafkaStore{
		cfg:     cfg,
		cl:      cl,
		st:      newState(),
		applied: -1,
		changed: make(chan struct{}),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	cl.AddConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: {0: kgo.NewOffset().AtStart()}})
	go k.follow(runCtx)
	// Read to the end: write a NOOP and wait (as long as ctx allows: the topic
	// may be long) until it has been read back.
	end, err := k.produce(ctx, &kgo.Record{Topic: cfg.Topic, Key: noopRecordKey()})
	if err == nil {
		err = k.waitApplied(ctx, end)
	}
	if err != nil {
		k.Close()
		return nil, fmt.Errorf("kafka schema store: reading %s to its end: %w", cfg.Topic, err)
	}
	return k, nil
}

// Close stops following the topic and closes the client.
func (k *KafkaStore) Close() error {
	k.closeOnce.Do(func() {
		k.cancel()
		k.cl.Close()
		<-k.done
	})
	return nil
}

// follow applies every record of the topic to the state, in offset order.
func (k *KafkaStore) follow(ctx context.Context) {
	defer close(k.done)
	for {
		fetches := k.cl.PollFetches(ctx)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			return
		}
		var failed bool
		fetches.EachError(func(topic string, p int32, err error) {
			failed = true
			k.cfg.Logger.Warn("reading schemas topic", "topic", topic, "partition", p, "error", err)
		})
		var recs []*kgo.Record
		fetches.EachRecord(func(r *kgo.Record) { recs = append(recs, r) })
		if len(recs) == 0 {
			if failed { // do not spin on a persistent error
				select {
				case <-ctx.Done():
					return
				case <-time.After(250 * time.Millisecond):
				}
			}
			continue
		}
		k.mu.Lock()
		for _, r := range recs {
			e, ok, err := decodeRecord(r.Key, r.Value)
			if err != nil {
				k.cfg.Logger.Warn("skipping undecodable schemas record", "topic", r.Topic, "offset", r.Offset, "error", err)
			} else if ok {
				k.st.apply(e)
			}
			k.applied = r.Offset
		}
		ch := k.changed
		k.changed = make(chan struct{})
		k.mu.Unlock()
		close(ch)
	}
}

func (k *KafkaStore) view(fn func(st *state)) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	fn(k.st)
}

func (k *KafkaStore) update(ctx context.Context, fn func(st *state) ([]entry, error)) error {
	k.writeMu.Lock()
	defer k.writeMu.Unlock()
	if k.inDoubt {
		if err := k.produceAndWait(ctx, &kgo.Record{Topic: k.cfg.Topic, Key: noopRecordKey()}); err != nil {
			return fmt.Errorf("reading %s to its end after a failed write: %w", k.cfg.Topic, err)
		}
	}
	k.mu.RLock()
	entries, err := fn(k.st)
	k.mu.RUnlock()
	if err != nil || len(entries) == 0 {
		return err
	}
	recs := make([]*kgo.Record, 0, len(entries))
	for _, e := range entries {
		key, value, err := encodeEntry(e)
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Topic: k.cfg.Topic, Key: key, Value: value})
	}
	return k.produceAndWait(ctx, recs...)
}

// produceAndWait writes recs to partition 0 and waits, at most WriteTimeout,
// until follow has applied them. The caller holds writeMu. Once written, the
// records are waited for even if the client went away; a failure at either
// step leaves the store in doubt until a later write has read the log to
// its end.
func (k *KafkaStore) produceAndWait(ctx context.Context, recs ...*kgo.Record) error {
	k.inDoubt = true
	last, err := k.produce(ctx, recs...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), k.cfg.WriteTimeout)
	defer cancel()
	if err := k.waitApplied(ctx, last); err != nil {
		return err
	}
	k.inDoubt = false
	return nil
}

// produce writes recs to partition 0 and returns the offset of the last one.
// Once buffered, records are settled (written or failed) within WriteTimeout
// whatever ctx does, so the writer lock is never released with a write in doubt.
func (k *KafkaStore) produce(ctx context.Context, recs ...*kgo.Record) (int64, error) {
	results := k.cl.ProduceSync(ctx, recs...)
	if err := results.FirstErr(); err != nil {
		if errors.Is(err, kgo.ErrRecordTimeout) {
			err = fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		return 0, fmt.Errorf("writing to %s: %w", k.cfg.Topic, err)
	}
	var last int64 = -1
	for _, r := range results {
		last = max(last, r.Record.Offset)
	}
	return last, nil
}

// waitApplied waits until follow has applied the record at offset off.
func (k *KafkaStore) waitApplied(ctx context.Context, off int64) error {
	for {
		k.mu.RLock()
		applied, ch := k.applied, k.changed
		k.mu.RUnlock()
		if applied >= off {
			return nil
		}
		select {
		case <-ch:
		case <-k.done:
			return errStoreClosed
		case <-ctx.Done():
			return fmt.Errorf("waiting to read back offset %d of %s: %w", off, k.cfg.Topic, ctx.Err())
		}
	}
}
