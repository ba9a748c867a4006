package pipeline_test

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// exampleFile is the absolute path of a file of examples/.
func exampleFile(t *testing.T, rel string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "examples", rel))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// deadLetterStages returns "stage/kind" of each dead letter, with messages.
func deadLetterStages(t *testing.T, dlq []*kgo.Record) (stages []string, messages []string) {
	t.Helper()
	for _, d := range dlq {
		stage, _ := testkit.Header(d, deadletter.HeaderStage)
		kind, _ := testkit.Header(d, deadletter.HeaderKind)
		msg, _ := testkit.Header(d, deadletter.HeaderMessage)
		stages = append(stages, stage+"/"+kind)
		messages = append(messages, msg)
	}
	sort.Strings(stages)
	return stages, messages
}

// TestProtobufPipeline runs the Protobuf example's pipeline (its orders.proto,
// both messages of it) on the broker: order events written in the Confluent
// Protobuf wire format are filtered, validated, mapped and written as
// PaidOrder; a frame holding the wrong message type and a negative total are
// dead letters at decode and validate.
func TestProtobufPipeline(t *testing.T) {
	env := testkit.Env(t)
	u := testkit.Unique("proto")
	proto := exampleFile(t, "protobuf/orders.proto")
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %[1]s
registry:
  url: %[2]s
pipelines:
  - name: %[3]s
    input: {topic: %[3]s-in, codec: protobuf, schema: %[4]s, message: OrderEvent}
    dead_letter: %[3]s-dlq
    outputs:
      paid: {topic: %[3]s-paid, codec: protobuf, schema: %[4]s, message: PaidOrder}
    steps:
      - filter: status == "STATUS_PAID"
      - validate:
          - check: total >= 0
            message: total must not be negative
      - map:
          fields: {order_id: order_id, customer_id: customer_id, total: total, currency: currency, lines: len(lines)}
      - emit: paid
`, strings.Join(env.Brokers(), ","), env.RegistryURL(), u, proto)
	cfg, err := pipeline.Parse("formats.yaml", []byte(testkit.SecureConfig(src)))
	if err != nil {
		t.Fatal(err)
	}
	testkit.CreateTopic(t, env.Brokers(), u+"-in", 2, nil)

	client := registryClient(t, env.RegistryURL())
	mk := func(message string, opts ...codecs.AvroOption) *codecs.Protobuf {
		pm, err := codecs.ParseProtoFile(proto, message)
		if err != nil {
			t.Fatal(err)
		}
		c, err := codecs.NewProtobuf(client, pm, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	events := mk("OrderEvent", codecs.WithSubject(u+"-in", codecs.TopicNameStrategy))
	wrong := mk("PaidOrder", codecs.WithSubject(u+"-in", codecs.TopicNameStrategy))
	ts := time.UnixMilli(1_700_000_000_000).UTC()
	var records []*kgo.Record
	add := func(key string, c *codecs.Protobuf, v map[string]any) {
		b, err := c.EncodeContext(context.Background(), v)
		if err != nil {
			t.Fatalf("encoding %v: %v", v, err)
		}
		records = append(records, &kgo.Record{Topic: u + "-in", Key: []byte(key), Value: b})
	}
	const paid = 20
	for i := 0; i < paid; i++ {
		add(fmt.Sprintf("o%d", i), events, map[string]any{"order_id": fmt.Sprintf("o%d", i), "customer_id": "c", "status": "STATUS_PAID",
			"total": float64(i), "currency": "EUR", "ts": ts, "lines": []any{map[string]any{"sku": "a", "quantity": 1}, map[string]any{"sku": "b", "quantity": 2}}})
	}
	add("placed", events, map[string]any{"order_id": "placed", "status": "STATUS_PLACED", "total": 5.0})
	add("negative", events, map[string]any{"order_id": "negative", "status": "STATUS_PAID", "total": -1.0})
	add("wrong-type", wrong, map[string]any{"order_id": "wrong-type"})
	testkit.Produce(t, env.Brokers(), records)

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	c := waitConsumed(t, rt, u, int64(len(records)), 2*time.Minute)
	if c.Processed != paid || c.Filtered != 1 || c.DeadLettered != 2 {
		t.Errorf("counts %+v, want %d processed, 1 filtered, 2 dead-lettered", c, paid)
	}

	reader := mk("PaidOrder")
	got := map[string]any{}
	for _, r := range testkit.ReadAll(t, env.Brokers(), u+"-paid", paid, time.Minute) {
		v, err := reader.Decode(r.Value)
		if err != nil {
			t.Fatalf("decoding output %x: %v", r.Value, err)
		}
		got[string(r.Key)] = v
	}
	for i := 0; i < paid; i++ {
		id := fmt.Sprintf("o%d", i)
		want := map[string]any{"order_id": id, "customer_id": "c", "total": float64(i), "currency": "EUR", "lines": int64(2)}
		if !reflect.DeepEqual(got[id], want) {
			t.Errorf("output %s: %#v, want %#v", id, got[id], want)
		}
	}
	stages, messages := deadLetterStages(t, testkit.ReadAll(t, env.Brokers(), u+"-dlq", 2, time.Minute))
	if want := []string{"decode/poison", "validate/poison"}; !reflect.DeepEqual(stages, want) {
		t.Errorf("dead letters %v, want %v (%q)", stages, want, messages)
	}
	if !strings.Contains(strings.Join(messages, "\n"), "PaidOrder, not a com.example.orders.OrderEvent") {
		t.Errorf("dead-letter messages %q do not name the wrong message type", messages)
	}
}

// TestJSONSchemaPipeline runs a pipeline over the JSON Schema example's
// schemas: values violating the writer schema are dead letters at decode,
// values the output schema refuses at encode, both naming the JSON pointer
// of the failing field.
func TestJSONSchemaPipeline(t *testing.T) {
	env := testkit.Env(t)
	u := testkit.Unique("jsonschema")
	in, out := exampleFile(t, "json-schema/signup.schema.json"), exampleFile(t, "json-schema/paid-signup.schema.json")
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %[1]s
registry:
  url: %[2]s
pipelines:
  - name: %[3]s
    input: {topic: %[3]s-in, codec: json_schema, schema: %[4]s}
    dead_letter: %[3]s-dlq
    outputs:
      paid: {topic: %[3]s-paid, codec: json_schema, schema: %[5]s}
    steps:
      - filter: plan != "free"
      - map:
          fields: {user_id: user_id, plan: plan, seats: seats ?? 0}
      - emit: paid
`, strings.Join(env.Brokers(), ","), env.RegistryURL(), u, in, out)
	cfg, err := pipeline.Parse("formats.yaml", []byte(testkit.SecureConfig(src)))
	if err != nil {
		t.Fatal(err)
	}
	testkit.CreateTopic(t, env.Brokers(), u+"-in", 2, nil)

	client := registryClient(t, env.RegistryURL())
	mk := func(path string, opts ...codecs.AvroOption) *codecs.JSONSchema {
		doc, err := codecs.ParseJSONSchemaFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := codecs.NewJSONSchema(client, doc, opts...)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	writer := mk(in, codecs.WithSubject(u+"-in", codecs.TopicNameStrategy))
	id, err := writer.Register(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var records []*kgo.Record
	add := func(key string, v map[string]any) {
		b, err := writer.Encode(v)
		if err != nil {
			t.Fatalf("encoding %v: %v", v, err)
		}
		records = append(records, &kgo.Record{Topic: u + "-in", Key: []byte(key), Value: b})
	}
	const paid = 10
	for i := 0; i < paid; i++ {
		add(fmt.Sprintf("u%d", i), map[string]any{"user_id": fmt.Sprintf("u%d", i), "email": "x@example.com", "plan": "team", "seats": i + 1, "ts": 1})
	}
	add("free", map[string]any{"user_id": "free", "email": "f@example.com", "plan": "free", "ts": 1})
	add("no-seats", map[string]any{"user_id": "no-seats", "email": "n@example.com", "plan": "pro", "ts": 1})
	// Written by a producer that does not validate: seats is a string.
	bad := append([]byte{0, 0, 0, 0, byte(id)}, `{"user_id":"bad","email":"b@example.com","plan":"pro","seats":"3","ts":1}`...)
	records = append(records, &kgo.Record{Topic: u + "-in", Key: []byte("bad"), Value: bad})
	testkit.Produce(t, env.Brokers(), records)

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	c := waitConsumed(t, rt, u, int64(len(records)), 2*time.Minute)
	if c.Processed != paid || c.Filtered != 1 || c.DeadLettered != 2 {
		t.Errorf("counts %+v, want %d processed, 1 filtered, 2 dead-lettered", c, paid)
	}

	reader := mk(out)
	for _, r := range testkit.ReadAll(t, env.Brokers(), u+"-paid", paid, time.Minute) {
		v, err := reader.Decode(r.Value)
		if err != nil {
			t.Fatalf("decoding output %q: %v", r.Value, err)
		}
		m := v.(map[string]any)
		if m["user_id"] != string(r.Key) || m["plan"] != "team" || len(m) != 3 {
			t.Errorf("output %s: %#v", r.Key, m)
		}
	}
	stages, messages := deadLetterStages(t, testkit.ReadAll(t, env.Brokers(), u+"-dlq", 2, time.Minute))
	if want := []string{"decode/poison", "encode/poison"}; !reflect.DeepEqual(stages, want) {
		t.Errorf("dead letters %v, want %v (%q)", stages, want, messages)
	}
	for _, m := range messages {
		if !strings.Contains(m, `"/seats"`) {
			t.Errorf("dead-letter message %q does not name /seats", m)
		}
	}
}
