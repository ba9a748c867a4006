package cli

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
)

const (
	userEventProto      = "../../testdata/schemas/user_event.proto"
	userEventJSONSchema = "../../testdata/schemas/user_event.schema.json"
)

// formatEvents are UserEvent lines both test schemas accept (ts as Unix ms:
// an integer for JSON Schema, a google.protobuf.Timestamp for Protobuf).
const formatEvents = `{"user_id":"u1","event_type":"login","amount":0,"ts":1700000000000}
{"user_id":"u2","event_type":"purchase","amount":12.5,"ts":1700000001000,"country":"NL"}
`

// TestProduceConsumeSchemaFormats: produce writes JSON lines as Protobuf
// (.proto) and JSON Schema (.json) in the Confluent wire format, registering
// the schema with its type; consume decodes them by their writer schema,
// or by --schema; bad lines stop produce naming the field.
func TestProduceConsumeSchemaFormats(t *testing.T) {
	env := testkit.Env(t)
	for _, tc := range []struct {
		name, schema string
		want         [2]string
		badLine      string
		badField     string
		extra        []string
	}{
		{
			name: "protobuf", schema: userEventProto,
			want: [2]string{
				`{"user_id":"u1","event_type":"login","amount":0,"ts":1700000000000,"country":null}`,
				`{"user_id":"u2","event_type":"purchase","amount":12.5,"ts":1700000001000,"country":"NL"}`,
			},
			badLine: `{"user_id":"u3","amount":"lots"}`, badField: "amount",
			extra: []string{"--message", "UserEvent"},
		},
		{
			name: "json", schema: userEventJSONSchema,
			want: [2]string{
				`{"user_id":"u1","event_type":"login","amount":0,"ts":1700000000000}`,
				`{"user_id":"u2","event_type":"purchase","amount":12.5,"ts":1700000001000,"country":"NL"}`,
			},
			badLine: `{"user_id":"u3","event_type":"x","amount":-1,"ts":1}`, badField: "/amount",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			topic := testkit.Unique("formats-" + tc.name)
			testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
			args := append([]string{"produce", "--topic", topic, "--schema", tc.schema, "--key-field", "user_id"}, tc.extra...)
			mustRun(t, env, formatEvents, args...)

			recs := consumeAll(t, env, topic, 2)
			for i, r := range recs {
				if r.Error != "" || r.Key == nil || *r.Key != fmt.Sprintf("u%d", i+1) {
					t.Errorf("record %d: %+v", i, r)
				}
				jsonEqual(t, r.Value, tc.want[i])
			}
			withSchema := consumeAll(t, env, topic, 2, append([]string{"--schema", tc.schema}, tc.extra...)...)
			jsonEqual(t, withSchema[1].Value, tc.want[1])

			res := runCLI(t, env, tc.badLine+"\n", args...)
			if res.code != ExitFailure || !strings.Contains(res.stderr, "line 1") || !strings.Contains(res.stderr, tc.badField) {
				t.Errorf("bad line: exit %d, stderr %s; want 1 naming line 1 and %s", res.code, res.stderr, tc.badField)
			}
		})
	}

	// --schema-type overrides the extension.
	topic := testkit.Unique("formats-typed")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	dir := t.TempDir()
	b, err := os.ReadFile(userEventJSONSchema)
	if err != nil {
		t.Fatal(err)
	}
	typed := filepath.Join(dir, "user_event.schema")
	if err := os.WriteFile(typed, b, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, env, formatEvents, "produce", "--topic", topic, "--schema", typed, "--schema-type", "json")
	jsonEqual(t, consumeAll(t, env, topic, 1)[0].Value, `{"user_id":"u1","event_type":"login","amount":0,"ts":1700000000000}`)
	res := runCLI(t, env, "", "produce", "--topic", "x", "--schema", typed, "--schema-type", "xml")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "--schema-type") {
		t.Errorf("--schema-type xml: exit %d, %s", res.code, res.stderr)
	}
	res = runCLI(t, env, "", "produce", "--topic", "x", "--schema", userEventJSONSchema, "--message", "UserEvent")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "Protobuf") {
		t.Errorf("--message with a JSON Schema: exit %d, %s", res.code, res.stderr)
	}
}

// TestDLQInspectSchemaFormats: dlq inspect decodes Protobuf and JSON Schema
// dead letters by their writer schemas, as consume does.
func TestDLQInspectSchemaFormats(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	dlqTopic := testkit.Unique("formats-dlq")
	testkit.CreateTopic(t, brokers, dlqTopic, 1, nil)
	line := `{"user_id":"u1","event_type":"login","amount":1.5,"ts":1700000000000}` + "\n"
	var frames []*kgo.Record
	for _, schema := range []string{userEventProto, userEventJSONSchema} {
		// One topic per schema: its subject takes one schema type.
		scratch := testkit.Unique("frames")
		testkit.CreateTopic(t, brokers, scratch, 1, nil)
		mustRun(t, env, line, "produce", "--topic", scratch, "--schema", schema)
		frames = append(frames, testkit.ReadAll(t, brokers, scratch, 1, time.Minute)...)
	}
	var letters []*kgo.Record
	for i, f := range frames {
		letters = append(letters, &kgo.Record{Topic: dlqTopic, Key: []byte("u1"), Value: f.Value, Headers: []kgo.RecordHeader{
			{Key: deadletter.HeaderPipeline, Value: []byte("p")},
			{Key: deadletter.HeaderStage, Value: []byte("validate")},
			{Key: deadletter.HeaderKind, Value: []byte(deadletter.KindPoison)},
			{Key: deadletter.HeaderMessage, Value: []byte("letter " + strconv.Itoa(i))},
			{Key: deadletter.HeaderSourceTopic, Value: []byte(frames[i].Topic)},
			{Key: deadletter.HeaderSourcePartition, Value: []byte("0")},
			{Key: deadletter.HeaderSourceOffset, Value: []byte(strconv.Itoa(i))},
			{Key: deadletter.HeaderSourceTimestamp, Value: []byte("1700000000000")},
			{Key: deadletter.HeaderAttempts, Value: []byte("1")},
			{Key: deadletter.HeaderSchemaID, Value: []byte(schemaIDOf(t, f.Value))},
		}})
	}
	testkit.Produce(t, brokers, letters)
	es := parseRecords(t, mustRun(t, env, "", "dlq", "inspect", "--topic", dlqTopic, "--format", "json", safety).stdout)
	if len(es) != 2 {
		t.Fatalf("inspect printed %d dead letters, want 2", len(es))
	}
	jsonEqual(t, es[0].Value, `{"user_id":"u1","event_type":"login","amount":1.5,"ts":1700000000000,"country":null}`)
	jsonEqual(t, es[1].Value, `{"user_id":"u1","event_type":"login","amount":1.5,"ts":1700000000000}`)
}

// TestSchemasPushCheckFormats: schemas push registers .proto and .json files
// with their schema types, under the subjects the pipelines file gives them
// (the examples) or their record names; check asks with the right type.
func TestSchemasPushCheckFormats(t *testing.T) {
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer srv.Close()
	for _, ex := range []struct{ dir, subjects string }{
		{"../../examples/protobuf", "order-events-value paid-orders-value"},
		{"../../examples/json-schema", "signups-value paid-signups-value"},
	} {
		code, out, errOut := runSchemasCLI(t, "schemas", "push", "--dir", ex.dir, "-f", ex.dir+"/pipelines.yaml", "--registry", srv.URL)
		if code != 0 {
			t.Fatalf("push %s: exit %d\n%s%s", ex.dir, code, out, errOut)
		}
		for _, s := range strings.Fields(ex.subjects) {
			if !strings.Contains(out, s) {
				t.Errorf("push %s: no subject %s in\n%s", ex.dir, s, out)
			}
		}
		if code, out, errOut = runSchemasCLI(t, "validate", "-f", ex.dir+"/pipelines.yaml", "--registry", srv.URL); code != 0 {
			t.Errorf("validate %s after push: exit %d %s%s", ex.dir, code, out, errOut)
		}
		if code, out, errOut = runSchemasCLI(t, "schemas", "check", "--dir", ex.dir, "-f", ex.dir+"/pipelines.yaml", "--registry", srv.URL); code != 0 || strings.Contains(out, "INCOMPATIBLE") {
			t.Errorf("check %s: exit %d\n%s%s", ex.dir, code, out, errOut)
		}
	}
	// Files no pipeline uses go under their record names: the first
	// message's full name, the JSON Schema's title.
	dir := t.TempDir()
	for _, f := range []string{userEventProto, userEventJSONSchema} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runSchemasCLI(t, "schemas", "push", "--dir", dir, "--registry", srv.URL)
	if code != 0 || !strings.Contains(out, "\ncom.example.events.UserEvent ") || !strings.Contains(out, "\nUserEvent ") {
		t.Fatalf("push by record names: exit %d\n%s%s", code, out, errOut)
	}
}
