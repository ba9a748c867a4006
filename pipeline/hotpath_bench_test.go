package pipeline

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

// hotPathConfig is the reference user-stats pipeline of pipelines.yaml.
const hotPathConfig = `
version: 1
kafka: {brokers: bench}
pipelines:
  - name: user-stats
    group: user-stats
    input: {topic: user-topic, codec: avro, schema: SCHEMAS/user_event.avsc}
    dead_letter: user-topic-dlq
    state: {schema: SCHEMAS/user_stats.avsc}
    outputs:
      stats: {topic: user-stats, codec: avro, schema: SCHEMAS/user_stats.avsc}
    steps:
      - filter: event_type != "heartbeat"
      - validate:
          - check: amount >= 0
            message: amount must not be negative
      - aggregate:
          init:
            user_id: key
          set:
            user_id: key
            events: state.events + 1
            purchases: 'state.purchases + (event_type == "purchase" ? 1 : 0)'
            total_spent: 'state.total_spent + (event_type == "purchase" ? amount : 0.0)'
            last_event_type: event_type
            last_country: country ?? state.last_country
            last_ts: ts
      - emit: stats
`

// BenchmarkHotPath runs the handler's callback of the reference user-stats
// pipeline over Avro events of 10,000 users, with a goka context whose table
// is a map of encoded entries (what goka's storage holds) and a producer
// that acknowledges at once: the per-message cost of sluice itself, without
// goka's, sarama's or the storage's.
func BenchmarkHotPath(b *testing.B) {
	r, frames, keys := hotPathHandler(b)
	ctx := newBenchContext("user-topic", r.table)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		n := i % len(frames)
		ctx.next(keys[n], int64(i))
		r.callback(ctx, frames[n])
	}
	b.StopTimer()
	if c := r.stats.snapshot(); c.Processed+c.Filtered != int64(b.N) {
		b.Fatalf("counts %+v after %d messages", c, b.N)
	}
}

// hotPathHandler returns the user-stats handler, writing through a producer
// that acknowledges at once, and Avro frames of events with their keys.
func hotPathHandler(b *testing.B) (*handler, [][]byte, []string) {
	b.Helper()
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	b.Cleanup(srv.Close)
	client, err := regclient.New(regclient.Config{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	abs, err := filepath.Abs("../schemas")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(hotPathConfig, "SCHEMAS", abs)), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	rt, err := New(cfg, Options{Registry: client})
	if err != nil {
		b.Fatal(err)
	}
	run := rt.runs[0]
	run.senderMu.Lock()
	run.sender = ackSender{}
	run.senderMu.Unlock()
	for _, a := range run.registered {
		if _, err := a.Register(context.Background()); err != nil {
			b.Fatal(err)
		}
	}

	schemas := codecs.NewSchemas()
	reader, err := schemas.ParseFile("../schemas/user_event.avsc")
	if err != nil {
		b.Fatal(err)
	}
	writer, err := codecs.NewAvro(client, schemas, reader, codecs.WithSubject("user-topic", codecs.TopicNameStrategy))
	if err != nil {
		b.Fatal(err)
	}
	types := []string{"view", "view", "click", "purchase", "heartbeat"}
	const users, events = 10_000, 50_000
	frames, keys := make([][]byte, events), make([]string, events)
	for i := range events {
		keys[i] = fmt.Sprintf("u%05d", i%users)
		ev := map[string]any{"user_id": keys[i], "event_type": types[i%len(types)], "amount": float64(i%200) + 0.5, "ts": time.UnixMilli(int64(1_700_000_000_000 + i))}
		if i%3 == 0 {
			ev["country"] = "KR"
		}
		if frames[i], err = writer.Encode(ev); err != nil {
			b.Fatal(err)
		}
	}
	return run.handler, frames, keys
}

// ackSender acknowledges every record at once.
type ackSender struct{}

func (ackSender) send(_ outRecord, ack acker) { ack.acked(nil) }

// unusedContext names goka.Context for embedding beside a Context method.
type unusedContext = goka.Context

// benchContext is the goka context of one message on partition 0, with the
// group table as goka's storage holds it: encoded entries by key.
type benchContext struct {
	unusedContext // the methods the handler does not call
	std           context.Context
	topic         goka.Stream
	key           string
	offset        int64
	table         map[string][]byte
	codec         goka.Codec
}

func newBenchContext(topic string, codec goka.Codec) *benchContext {
	return &benchContext{std: context.Background(), topic: goka.Stream(topic), table: map[string][]byte{}, codec: codec}
}

func (c *benchContext) next(key string, offset int64) { c.key, c.offset = key, offset }

func (c *benchContext) Topic() goka.Stream            { return c.topic }
func (c *benchContext) Key() string                   { return c.key }
func (c *benchContext) Partition() int32              { return 0 }
func (c *benchContext) Offset() int64                 { return c.offset }
func (c *benchContext) Timestamp() time.Time          { return time.Time{} }
func (c *benchContext) Headers() goka.Headers         { return nil }
func (c *benchContext) Context() context.Context      { return c.std }
func (c *benchContext) DeferCommit() func(error)      { return func(error) {} }
func (c *benchContext) Fail(err error)                { panic(err) }
func (c *benchContext) Lookup(goka.Table, string) any { return nil }

func (c *benchContext) Value() any {
	data, ok := c.table[c.key]
	if !ok {
		return nil
	}
	v, err := c.codec.Decode(data)
	if err != nil {
		c.Fail(err)
	}
	return v
}

func (c *benchContext) SetValue(value any, _ ...goka.ContextOption) {
	data, err := c.codec.Encode(value)
	if err != nil {
		c.Fail(err)
	}
	c.table[c.key] = data
}
