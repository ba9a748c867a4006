package contest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// FranzStats runs user-stats on plain franz-go until ctx ends: a consumer
// group, the state in a map in memory (lost on restart: this contestant
// shows the floor of decoding, folding and encoding, not a durable
// pipeline), outputs produced asynchronously and offsets committed after
// each polled batch is flushed.
func FranzStats(ctx context.Context, cfg Config) error {
	codec, err := NewCodec(ctx, cfg)
	if err != nil {
		return err
	}
	state := map[string]*UserStats{}
	return consumeProduce(ctx, cfg, func(r *kgo.Record) (*kgo.Record, error) {
		e, err := codec.Decode(ctx, r.Value)
		if err != nil {
			if !IsPoison(err) {
				return nil, err
			}
			return &kgo.Record{Topic: cfg.DeadLetter, Key: r.Key, Value: r.Value}, nil
		}
		key := string(r.Key)
		next, err := Fold(key, state[key], e)
		switch {
		case err != nil:
			return &kgo.Record{Topic: cfg.DeadLetter, Key: r.Key, Value: r.Value}, nil
		case next == nil:
			return nil, nil
		}
		state[key] = next
		out, err := codec.EncodeStats(next)
		if err != nil {
			return nil, err
		}
		return &kgo.Record{Topic: cfg.Output, Key: r.Key, Value: out}, nil
	})
}

// Pipe copies every record of the input to the output, decoding nothing:
// the cost of consuming and producing alone.
func Pipe(ctx context.Context, cfg Config) error {
	return consumeProduce(ctx, cfg, func(r *kgo.Record) (*kgo.Record, error) {
		return &kgo.Record{Topic: cfg.Output, Key: r.Key, Value: r.Value}, nil
	})
}

// consumeProduce polls the input in a consumer group, produces what each
// record maps to (nil for nothing), and commits each polled batch once its
// outputs are acknowledged.
func consumeProduce(ctx context.Context, cfg Config, each func(*kgo.Record) (*kgo.Record, error)) error {
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ConsumerGroup(cfg.Group),
		kgo.ConsumeTopics(cfg.Input),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.FetchMaxWait(100*time.Millisecond),
		kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)),
		kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
	)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.Canceled) {
				return fmt.Errorf("fetching %s[%d]: %w", e.Topic, e.Partition, e.Err)
			}
		}
		var failed error
		fs.EachRecord(func(r *kgo.Record) {
			if failed != nil {
				return
			}
			out, err := each(r)
			if err != nil {
				failed = err
				return
			}
			if out != nil {
				cl.Produce(ctx, out, func(_ *kgo.Record, err error) {
					if err != nil && ctx.Err() == nil {
						// A lost output would show as a mismatch in the
						// harness's check; say why here.
						fmt.Printf("producing to %s: %v\n", out.Topic, err)
					}
				})
			}
		})
		if failed != nil {
			return failed
		}
		if err := cl.Flush(ctx); err != nil {
			return nil // ctx ended
		}
		if err := cl.CommitUncommittedOffsets(ctx); err != nil && ctx.Err() == nil {
			return fmt.Errorf("committing offsets: %w", err)
		}
	}
}
