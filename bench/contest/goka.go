package contest

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/IBM/sarama"
	"github.com/hamba/avro/v2"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
)

// Goka runs user-stats as a hand-written goka processor until ctx ends:
// input as bytes, decoded in the callback (so that poison is dead-lettered),
// the state as Avro in the group table, kept in LevelDB under cfg.StateDir.
// Its client settings are those sluice uses, so that the two differ only in
// what happens per message.
func Goka(ctx context.Context, cfg Config) error {
	codec, err := NewCodec(ctx, cfg)
	if err != nil {
		return err
	}
	scfg := goka.DefaultConfig()
	scfg.Version = sarama.V3_6_0_0
	scfg.ClientID = "bench-goka"
	scfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	scfg.Consumer.MaxWaitTime = 100 * time.Millisecond
	scfg.Consumer.Group.Heartbeat.Interval = 250 * time.Millisecond
	scfg.Producer.RequiredAcks = sarama.WaitForAll
	scfg.Producer.Flush.Frequency = 5 * time.Millisecond
	scfg.Producer.Compression = sarama.CompressionNone
	scfg.Metadata.AllowAutoTopicCreation = false
	tmc := goka.NewTopicManagerConfig()
	tmc.Table.Replication = 1
	tmc.Stream.Replication = 1

	callback := func(gctx goka.Context, msg any) {
		raw, _ := msg.([]byte)
		e, err := codec.Decode(gctx.Context(), raw)
		if err != nil {
			if !IsPoison(err) {
				gctx.Fail(err)
			}
			gctx.Emit(goka.Stream(cfg.DeadLetter), gctx.Key(), raw)
			return
		}
		var s *UserStats
		if v := gctx.Value(); v != nil {
			s = v.(*UserStats)
		}
		next, err := Fold(gctx.Key(), s, e)
		switch {
		case err != nil:
			gctx.Emit(goka.Stream(cfg.DeadLetter), gctx.Key(), raw)
			return
		case next == nil:
			return
		}
		out, err := codec.EncodeStats(next)
		if err != nil {
			gctx.Fail(err)
		}
		gctx.SetValue(next)
		gctx.Emit(goka.Stream(cfg.Output), gctx.Key(), out)
	}
	graph := goka.DefineGroup(goka.Group(cfg.Group),
		goka.Input(goka.Stream(cfg.Input), rawCodec{}, callback),
		goka.Output(goka.Stream(cfg.Output), rawCodec{}),
		goka.Output(goka.Stream(cfg.DeadLetter), rawCodec{}),
		goka.Persist(statsCodec{codec.StatsSchema()}),
	)
	proc, err := goka.NewProcessor(cfg.Brokers, graph,
		goka.WithStorageBuilder(storage.DefaultBuilder(cfg.StateDir)),
		goka.WithConsumerGroupBuilder(goka.ConsumerGroupBuilderWithConfig(scfg)),
		goka.WithConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(scfg)),
		goka.WithProducerBuilder(goka.ProducerBuilderWithConfig(scfg)),
		goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(scfg, tmc)),
		goka.WithLogger(log.New(discard{}, "", 0)),
	)
	if err != nil {
		return fmt.Errorf("goka processor: %w", err)
	}
	if err := proc.Run(ctx); err != nil {
		return fmt.Errorf("goka processor: %w", err)
	}
	return nil
}

// rawCodec passes bytes through.
type rawCodec struct{}

func (rawCodec) Encode(v any) ([]byte, error) {
	b, ok := v.([]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: %T is not []byte", v)
	}
	return b, nil
}

func (rawCodec) Decode(b []byte) (any, error) { return b, nil }

// statsCodec keeps UserStats in the table as plain Avro.
type statsCodec struct{ schema avro.Schema }

func (c statsCodec) Encode(v any) ([]byte, error) { return avro.Marshal(c.schema, v) }

func (c statsCodec) Decode(b []byte) (any, error) {
	var s UserStats
	if err := avro.Unmarshal(c.schema, b, &s); err != nil {
		return nil, fmt.Errorf("decoding a table entry: %w", err)
	}
	return &s, nil
}

// discard drops goka's log lines.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
