// Package demo produces realistic UserEvents for `sluice dev --demo`: v1 and
// v2 writers, heartbeats, a few negative amounts and corrupt frames, so that a
// newcomer sees outputs and dead letters flow at once.
//
// It owns the demo traffic generator (also used by tests to make events) and
// must not import pipeline, the CLI or goka.
// The rules are checked by TestImportRules (arch_test.go).
package demo

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/time/rate"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/registry/regclient"
)

// Config says where and how fast to produce.
type Config struct {
	Brokers []string
	// TLS and SASL secure the connections to the Brokers.
	TLS         tlsconf.Config
	SASL        kafkaconn.SASL
	RegistryURL string
	Topic       string
	// Reader is the v2 UserEvent schema; v1 is derived from it without `country`.
	Reader avro.Schema
	// Rate is events per second.
	Rate int
	// Seed makes the traffic reproducible.
	Seed uint64
}

// Run produces events until ctx is cancelled.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Rate < 1 {
		return fmt.Errorf("demo rate %d: must be at least 1 event per second", cfg.Rate)
	}
	client, err := regclient.New(regclient.Config{URL: cfg.RegistryURL})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	v2, err := encoder(ctx, client, cfg.Reader, cfg.Topic)
	if err != nil {
		return err
	}
	v1Schema, err := withoutField(cfg.Reader, "country")
	if err != nil {
		return err
	}
	v1, err := encoder(ctx, client, v1Schema, cfg.Topic)
	if err != nil {
		return err
	}
	conn := kafkaconn.Config{Brokers: cfg.Brokers, TLS: cfg.TLS, SASL: cfg.SASL}
	cl, err := conn.NewClient(kgo.DefaultProduceTopic(cfg.Topic), kgo.ProducerLinger(10*time.Millisecond))
	if err != nil {
		return fmt.Errorf("demo producer: %w", err)
	}
	defer cl.Close()
	// Rounds of about a tenth of a second's events, as often as the rate
	// allows.
	batch := max(1, cfg.Rate/10)
	limiter := rate.NewLimiter(rate.Limit(cfg.Rate), batch)
	var failed error
	var mu sync.Mutex
	onDone := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			failed = cmp.Or(failed, err)
			mu.Unlock()
		}
	}
	for round := uint64(0); ; round++ {
		// WaitN fails only when ctx is done, or ends before the next round.
		if err := limiter.WaitN(ctx, batch); err != nil {
			return nil
		}
		mu.Lock()
		err := failed
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("demo producer: %w", err)
		}
		events := GenerateEvents(cfg.Seed+round, batch, 25, 0.02)
		now := time.Now().UnixMilli()
		for i := range events {
			events[i].TS = now
		}
		records, err := Records(cfg.Topic, events, v1, v2, 1<<30)
		if err != nil {
			return fmt.Errorf("demo events: %w", err)
		}
		for _, r := range records {
			cl.Produce(ctx, r, onDone)
		}
	}
}

func encoder(ctx context.Context, client codecs.Registry, s avro.Schema, topic string) (Encoder, error) {
	c, err := codecs.NewAvro(client, codecs.NewSchemas(), s, codecs.WithSubject(topic, codecs.TopicNameStrategy))
	if err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		_, err := c.Register(ctx)
		if err == nil {
			return c.Encode, nil
		}
		if !codecs.IsUnavailable(err) || attempt > 50 {
			return nil, fmt.Errorf("registering the demo's writer schema: %w", err)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// withoutField returns record schema s without the named field: the older
// writer schema of an evolved record.
func withoutField(s avro.Schema, field string) (avro.Schema, error) {
	var m map[string]any
	if err := json.Unmarshal([]byte(s.String()), &m); err != nil {
		return nil, fmt.Errorf("deriving v1 schema: %w", err)
	}
	fields, _ := m["fields"].([]any)
	kept := fields[:0]
	for _, f := range fields {
		if fm, ok := f.(map[string]any); ok && fm["name"] == field {
			continue
		}
		kept = append(kept, f)
	}
	m["fields"] = kept
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("deriving v1 schema: %w", err)
	}
	return codecs.NewSchemas().Parse(string(b))
}
