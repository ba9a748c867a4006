package outbox_test

import (
	"context"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/outbox"
	"github.com/sluicehq/sluice/processors/config"
	"github.com/sluicehq/sluice/registry/regclient"
)

const orderSchema = `{"type":"record","name":"Order","namespace":"com.example.events","fields":[
  {"name":"order_id","type":"string"},{"name":"amount","type":"double"}]}`

// parseOutbox reads the `outbox:` section of a pipelines.yaml text written
// to dir.
func parseOutbox(t *testing.T, dir, text string) *outbox.Config {
	t.Helper()
	file := filepath.Join(dir, "pipelines.yaml")
	rep := &config.Reporter{}
	root, err := config.ParseFile(file, []byte(text), os.Getenv, rep)
	if err != nil {
		t.Fatal(err)
	}
	c := outbox.Parse(root.Map().Get("outbox"), dir, codecs.NewSchemas())
	if err := rep.Err(); err != nil {
		t.Fatalf("outbox section: %v", err)
	}
	return c
}

// TestRelayAvroJSONPoisonAndMark: from an `outbox:` section, an Avro event
// is encoded through the registry (Confluent wire format), a JSON event is
// published as stored, an unknown event type and a payload that does not
// fit the schema go to the dead-letter topic with their reasons without
// holding back the next row of their aggregate, and `after: mark` keeps the
// rows with published_at set.
func TestRelayAvroJSONPoisonAndMark(t *testing.T) {
	env := testkit.Env(t)
	dsn := testkit.Postgres(t)
	pool := connect(t, dsn)
	table := strings.ReplaceAll(testkit.Unique("outbox"), "-", "_")
	createTable(t, pool, table)
	orders, notes := testkit.Unique("orders"), testkit.Unique("notes")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "order.avsc"), []byte(orderSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("TEST_OUTBOX_DSN", dsn)
	cfg := parseOutbox(t, dir, `
outbox:
  dsn: ${TEST_OUTBOX_DSN}
  table: `+table+`
  after: mark
  batch_size: 2
  poll_interval: 100ms
  notify_channel: `+table+`
  events:
    order_placed: {topic: `+orders+`, schema: order.avsc}
    note: {topic: `+notes+`, codec: json}
`)
	if cfg.DeadLetter != table+"-dlq" || cfg.After != outbox.Mark || cfg.BatchSize != 2 {
		t.Fatalf("parsed %v, batch %d", cfg, cfg.BatchSize)
	}
	reg, err := regclient.New(regclient.Config{URL: env.RegistryURL()})
	if err != nil {
		t.Fatal(err)
	}
	metrics := outbox.NewMetrics()
	relay, err := outbox.New(outbox.Options{Config: cfg, Kafka: testkit.Kafka(env.Brokers()), Registry: reg, Partitions: 2, Replication: 1, Metrics: metrics})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()

	rows := []struct{ agg, eventType, payload string }{
		{"a1", "order_placed", `{"order_id":"o1","amount":12.5}`},
		{"a1", "mystery", `{"x":1}`},
		{"a1", "order_placed", `{"order_id":5}`},
		{"a1", "order_placed", `{"order_id":"o2","amount":1}`},
		{"a2", "note", `{"text":"hi"}`},
	}
	for _, r := range rows {
		if _, err := pool.Exec(t.Context(), "INSERT INTO "+table+" (aggregate_id, event_type, payload) VALUES ($1, $2, $3)", r.agg, r.eventType, r.payload); err != nil {
			t.Fatal(err)
		}
	}
	testkit.EventuallyValue(t, time.Minute, "every row to be marked published", func() (int, bool) {
		var n int
		if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+table+" WHERE published_at IS NULL").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n, n == 0
	})
	stop()
	if err := testkit.Await(t, 30*time.Second, "the relay to stop", done); err != nil {
		t.Fatal(err)
	}
	var kept int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&kept); err != nil || kept != len(rows) {
		t.Errorf("after: mark kept %d rows (%v), want %d", kept, err, len(rows))
	}

	schema := avro.MustParse(orderSchema)
	got := testkit.ReadAll(t, env.Brokers(), orders, 2, time.Minute)
	for i, want := range []string{"o1", "o2"} {
		r := got[i]
		if string(r.Key) != "a1" || len(r.Value) < 5 || r.Value[0] != 0 {
			t.Fatalf("order %d: key %q, value %x: not a1 in the Confluent wire format", i, r.Key, r.Value)
		}
		id := binary.BigEndian.Uint32(r.Value[1:5])
		s, err := reg.SchemaByID(t.Context(), int(id))
		if err != nil || !strings.Contains(s.Text, "com.example.events") {
			t.Errorf("schema id %d: %+v, %v", id, s, err)
		}
		var v struct {
			OrderID string  `avro:"order_id"`
			Amount  float64 `avro:"amount"`
		}
		if err := avro.Unmarshal(schema, r.Value[5:], &v); err != nil || v.OrderID != want {
			t.Errorf("order %d: %+v, %v; want %s", i, v, err, want)
		}
		if h, ok := testkit.Header(r, outbox.HeaderID); !ok || len(h) != 36 {
			t.Errorf("order %d: %s = %q", i, outbox.HeaderID, h)
		}
	}
	note := testkit.ReadAll(t, env.Brokers(), notes, 1, time.Minute)[0]
	if string(note.Key) != "a2" || string(note.Value) != `{"text": "hi"}` {
		t.Errorf("note: key %q value %q", note.Key, note.Value)
	}
	dead := testkit.ReadAll(t, env.Brokers(), cfg.DeadLetter, 2, time.Minute)
	for i, want := range []struct{ payload, message string }{
		{`{"x": 1}`, `unknown event type "mystery"`},
		{`{"order_id": 5}`, "does not fit order.avsc"},
	} {
		r := dead[i]
		kind, _ := testkit.Header(r, "sluice.error.kind")
		msg, _ := testkit.Header(r, "sluice.error.message")
		if string(r.Key) != "a1" || string(r.Value) != want.payload || kind != "poison" || !strings.Contains(msg, want.message) {
			t.Errorf("dead letter %d: key %q value %q kind %q message %q; want payload %s, message with %q", i, r.Key, r.Value, kind, msg, want.payload, want.message)
		}
	}
}

// TestRelayWakesOnNotify: with polling every hour, a row still goes out at
// once: the table's trigger notifies the channel the relay listens on.
func TestRelayWakesOnNotify(t *testing.T) {
	brokers := testkit.Brokers(t)
	dsn := testkit.Postgres(t)
	pool := connect(t, dsn)
	table := strings.ReplaceAll(testkit.Unique("outbox"), "-", "_")
	createTable(t, pool, table)
	topic := testkit.Unique("outbox-notified")
	cfg := jsonConfig(dsn, table, topic, 10)
	cfg.PollInterval = time.Hour
	relay, err := outbox.New(outbox.Options{Config: cfg, Kafka: testkit.Kafka(brokers), Partitions: 1, Replication: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	defer func() {
		stop()
		if err := testkit.Await(t, 30*time.Second, "the relay to stop", done); err != nil {
			t.Error(err)
		}
	}()
	// Insert once the relay listens, or the notification would go unheard.
	testkit.Eventually(t, 30*time.Second, "the relay to LISTEN on "+table, func() bool {
		var n int
		err := pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity WHERE query = $1`, `LISTEN "`+table+`"`).Scan(&n)
		return err == nil && n == 1
	})
	// A notification during the first batch is kept: the wait after it
	// ends at once.
	if _, err := pool.Exec(t.Context(), "INSERT INTO "+table+" (aggregate_id, event_type, payload) VALUES ('a', 'order', '{\"n\": 1}')"); err != nil {
		t.Fatal(err)
	}
	got := testkit.ReadAll(t, brokers, topic, 1, 20*time.Second)
	if string(got[0].Key) != "a" || string(got[0].Value) != `{"n": 1}` {
		t.Errorf("record: key %q value %q", got[0].Key, got[0].Value)
	}
}
