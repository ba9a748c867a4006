package outbox_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/outbox"
	"github.com/sluicehq/sluice/processors/config"
)

// TestParseDefaults: a minimal section takes the documented defaults.
func TestParseDefaults(t *testing.T) {
	c := parseOutbox(t, t.TempDir(), "outbox:\n  events:\n    a: {topic: t}\n")
	if c.Table != "outbox_event" || c.BatchSize != 200 || c.PollInterval != time.Second || c.Channel != "outbox_event" ||
		c.After != outbox.Delete || c.DeadLetter != "outbox_event-dlq" || c.DSN != "" ||
		c.Columns != (outbox.Columns{ID: "id", AggregateID: "aggregate_id", EventType: "event_type", Payload: "payload", CreatedAt: "created_at", Published: "published_at"}) ||
		c.Events["a"].Topic != "t" || c.Events["a"].Codec != "json" {
		t.Errorf("defaults: %+v", c)
	}
	if strings.Contains(c.String(), "postgres") {
		t.Errorf("String shows the DSN: %s", c)
	}
}

// TestParseProblems: each mistake is reported at its line and column.
func TestParseProblems(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte("postgres://x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ yaml, want string }{
		{"outbox:\n  events: {a: {topic: t}}\n  tabel: x\n", `3:3: unknown field "tabel"`},
		{"outbox:\n  table: \"x; DROP\"\n  events: {a: {topic: t}}\n", "2:10: table \"x; DROP\" is not a plain SQL identifier"},
		{"outbox:\n  after: archive\n  events: {a: {topic: t}}\n", "2:10: after must be delete or mark"},
		{"outbox:\n  batch_size: 0\n  events: {a: {topic: t}}\n", "2:15: batch_size must be between 1 and 2000"},
		{"outbox:\n  table: t\n", "2:3: missing required field \"events\""},
		{"outbox:\n  events: {a: {topic: t, codec: json, schema: x.avsc}}\n", "codec json and schema exclude each other"},
		{"outbox:\n  events: {a: {topic: t, codec: avro}}\n", "codec avro needs a schema"},
		{"outbox:\n  events: {a: {topic: t, schema: missing.avsc}}\n", "schema:"},
		{"outbox:\n  dsn: postgres://y\n  dsn_file: " + filepath.Join(dir, "dsn") + "\n  events: {a: {topic: t}}\n", "dsn and dsn_file are both set"},
		{"outbox:\n  columns: {id: \"a b\"}\n  events: {a: {topic: t}}\n", "column \"a b\" is not a plain SQL identifier"},
	} {
		file := filepath.Join(dir, "pipelines.yaml")
		rep := &config.Reporter{}
		root, err := config.ParseFile(file, []byte(c.yaml), func(string) string { return "" }, rep)
		if err != nil {
			t.Fatal(err)
		}
		outbox.Parse(root.Map().Get("outbox"), dir, codecs.NewSchemas())
		err = rep.Err()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.want)
		}
	}
	c := parseOutbox(t, dir, "outbox:\n  dsn_file: "+filepath.Join(dir, "dsn")+"\n  events: {a: {topic: t}}\n")
	if c.DSN != "postgres://x" {
		t.Errorf("dsn_file gave %q", c.DSN)
	}
}
