package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluicehq/sluice/internal/testkit"
)

// outboxPipelines writes the reference file's kafka, registry and defaults
// sections, one pipeline that emits the UserEvents of topic as JSON to
// topic-out, and an `outbox:` section relaying event type user_event of
// table to topic as UserEvents.
func outboxPipelines(t *testing.T, table, topic string) string {
	t.Helper()
	src, err := os.ReadFile(referencePipelines)
	if err != nil {
		t.Fatal(err)
	}
	head, _, ok := strings.Cut(string(src), "\npipelines:")
	if !ok {
		t.Fatal("the reference pipelines have no pipelines: section")
	}
	abs, err := filepath.Abs("../../schemas")
	if err != nil {
		t.Fatal(err)
	}
	// The head's publish route names its schema relative to the repository.
	head = strings.ReplaceAll(head, "schema: schemas/", "schema: "+abs+"/")
	text := head + fmt.Sprintf(`
pipelines:
  - name: %[3]s
    input: {topic: %[3]s, schema: %[4]s/user_event.avsc}
    dead_letter: {topic: %[3]s-dlq}
    outputs:
      out: {topic: %[3]s-out, codec: json}
    steps:
      - emit: out

outbox:
  dsn: ${SLUICE_OUTBOX_DSN:-}
  table: %[1]s
  poll_interval: 100ms
  notify_channel: %[2]s
  events:
    user_event: {topic: %[3]s, schema: %[4]s/user_event.avsc}
`, table, table, topic, abs)
	file := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestOutboxRun: `sluice run` relays the outbox next to the pipelines: rows
// written to the table land in their topic as UserEvents keyed by their
// aggregate, in order, the pipeline reading that topic processes them,
// /metrics counts them, and run stops cleanly.
func TestOutboxRun(t *testing.T) {
	env := testkit.Env(t)
	dsn := testkit.Postgres(t)
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	table := strings.ReplaceAll(testkit.Unique("outbox"), "-", "_")
	if _, err := pool.Exec(t.Context(), `CREATE TABLE `+table+` (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  aggregate_id text NOT NULL, event_type text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		t.Fatal(err)
	}
	defer pool.Exec(context.Background(), "DROP TABLE "+table) //nolint:errcheck
	topic := testkit.Unique("outbox-users")
	file := outboxPipelines(t, table, topic)
	getenv := envWith(map[string]string{
		envBrokers:     strings.Join(env.Brokers(), ","),
		envRegistryURL: env.RegistryURL(),
		envOutboxDSN:   dsn,
		envLogFormat:   "text",
	})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var runErr syncBuffer
	runDone := make(chan int, 1)
	go func() {
		runDone <- runWithEnv(ctx, []string{"run", "-f", file, "--http-addr", "127.0.0.1:0"},
			strings.NewReader(""), &syncBuffer{}, &runErr, getenv)
	}()
	for i, user := range []string{"u1", "u2", "u1"} {
		payload := fmt.Sprintf(`{"user_id":%q,"event_type":"purchase","amount":%d,"ts":1700000000000}`, user, 10+i)
		if _, err := pool.Exec(t.Context(), "INSERT INTO "+table+" (aggregate_id, event_type, payload) VALUES ($1, 'user_event', $2)", user, payload); err != nil {
			t.Fatal(err)
		}
	}
	records := testkit.ReadAll(t, env.Brokers(), topic, 3, time.Minute)
	schema, err := avro.ParseFiles(userEventSchema)
	if err != nil {
		t.Fatal(err)
	}
	var u1 []float64
	for _, r := range records {
		if len(r.Value) < 5 || r.Value[0] != 0 {
			t.Fatalf("record %s: not in the Confluent wire format: %x", r.Key, r.Value)
		}
		var v struct {
			UserID string  `avro:"user_id"`
			Amount float64 `avro:"amount"`
		}
		if err := avro.Unmarshal(schema, r.Value[5:], &v); err != nil || v.UserID != string(r.Key) {
			t.Fatalf("record %s: %+v, %v", r.Key, v, err)
		}
		if v.UserID == "u1" {
			u1 = append(u1, v.Amount)
		}
	}
	if len(u1) != 2 || u1[0] != 10 || u1[1] != 12 {
		t.Fatalf("u1's amounts are %v, want [10 12] in this order", u1)
	}
	addr := testkit.EventuallyValue(t, time.Minute, "run to serve its operations endpoints", func() (string, bool) {
		m := opsAddr.FindStringSubmatch(runErr.String())
		if m == nil {
			return runErr.String(), false
		}
		return m[1], true
	})
	testkit.EventuallyValue(t, time.Minute, "sluice_outbox_rows_published_total to count 3", func() (string, bool) {
		m := regexp.MustCompile(`(?m)^sluice_outbox_rows_published_total (\S+)$`).FindStringSubmatch(httpGet(t, "http://"+addr+"/metrics"))
		return fmt.Sprint(m), m != nil && m[1] == "3"
	})
	// The pipeline, ready once the relay registered the topic's schema,
	// passes the events on.
	testkit.ReadAll(t, env.Brokers(), topic+"-out", 3, time.Minute)
	cancel()
	if code := testkit.Await(t, time.Minute, "run to stop", runDone); code != ExitOK {
		t.Errorf("run exited %d:\n%s", code, runErr.String())
	}
	if !strings.Contains(runErr.String(), "outbox relay stopped") {
		t.Errorf("run did not log the relay's stop:\n%s", runErr.String())
	}
}

// TestOutboxDevWithoutDSN: `sluice dev` with an `outbox:` but no DSN runs the
// pipelines and says that the outbox is not available.
func TestOutboxDevWithoutDSN(t *testing.T) {
	file := outboxPipelines(t, "outbox_event", testkit.Unique("outbox-users"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- runWithEnv(ctx, []string{"dev", "-f", file, "--kafka-addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0", "--http-addr", ""},
			strings.NewReader(""), &out, &errb, func(string) string { return "" })
	}()
	testkit.EventuallyValue(t, time.Minute, "dev to say the outbox is not available", func() (string, bool) {
		return out.String() + errb.String(), strings.Contains(out.String(), "outbox    not available in dev: no PostgreSQL DSN (--outbox-dsn or $SLUICE_OUTBOX_DSN)")
	})
	cancel()
	if code := testkit.Await(t, time.Minute, "dev to stop", done); code != ExitOK {
		t.Errorf("dev exited %d:\n%s\n%s", code, out.String(), errb.String())
	}
}
