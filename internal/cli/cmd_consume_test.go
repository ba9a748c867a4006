package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/testkit"
)

// produceRaw writes records with a plain kgo client, bypassing the CLI.
func produceRaw(t *testing.T, env *devenv.Env, recs ...*kgo.Record) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.Brokers()...), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("producing: %v", err)
	}
}

func TestConsumeRendersValues(t *testing.T) {
	env := testkit.Env(t)
	topic := uniqueTopic("render")
	createTopic(t, env, topic, 1)
	produceRaw(t, env,
		&kgo.Record{Topic: topic, Key: []byte("k"), Value: []byte(` {"x": [1, "<b>"]} `),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}}},
		&kgo.Record{Topic: topic, Value: []byte("plain text")},
		&kgo.Record{Topic: topic, Key: []byte{0xff}, Value: []byte{0xff, 0xfe, 0x00}},
		&kgo.Record{Topic: topic, Key: []byte("tombstone")},                 // null value
		&kgo.Record{Topic: topic, Value: []byte{0, 0, 0, 0x7f, 0xff, 0xfe}}, // magic 0, unknown id
		&kgo.Record{Topic: topic, Value: []byte("12.50")},
	)

	recs := consumeAll(t, env, topic, 6)
	r := recs[0]
	jsonEqual(t, r.Value, `{"x":[1,"<b>"]}`)
	if r.Key == nil || *r.Key != "k" || r.Headers["trace"] != "abc" || r.Offset != 0 || r.Partition != 0 {
		t.Errorf("record 0: %+v", r)
	}
	jsonEqual(t, recs[1].Value, `"plain text"`)
	if recs[1].Key != nil || len(recs[1].Headers) != 0 {
		t.Errorf("record 1: key %v headers %v, want null and {}", recs[1].Key, recs[1].Headers)
	}
	if recs[2].Value != nil || recs[2].ValueBase64 != base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0}) ||
		recs[2].Key != nil || recs[2].KeyBase64 != "/w==" {
		t.Errorf("record 2 (not UTF-8): %+v", recs[2])
	}
	jsonEqual(t, recs[3].Value, `null`)
	if recs[4].ValueBase64 == "" || recs[4].Error != "" { // auto: not decodable Avro -> raw
		t.Errorf("record 4 (unknown schema id): %+v", recs[4])
	}
	jsonEqual(t, recs[5].Value, `12.50`)

	// Explicit codecs.
	str := consumeAll(t, env, topic, 1, "--codec", "string")[0]
	jsonEqual(t, str.Value, `" {\"x\": [1, \"<b>\"]} "`)
	js := consumeAll(t, env, topic, 2, "--codec", "json")
	if js[1].Error == "" {
		t.Errorf("--codec json on plain text gave no error: %+v", js[1])
	}
	av := consumeAll(t, env, topic, 5, "--codec", "avro")
	if av[0].Error == "" || av[4].Error == "" || !strings.Contains(av[4].Error, "schema id 32767") {
		t.Errorf("--codec avro on non-Avro values: %+v / %+v", av[0], av[4])
	}
	raw := consumeAll(t, env, topic, 2, "--codec", "bytes")
	if raw[1].ValueBase64 != base64.StdEncoding.EncodeToString([]byte("plain text")) {
		t.Errorf("--codec bytes: %+v", raw[1])
	}
}

func TestConsumeStopsOnTimeout(t *testing.T) {
	env := testkit.Env(t)
	topic := uniqueTopic("empty")
	createTopic(t, env, topic, 2)
	res := mustRun(t, env, "", "consume", "--topic", topic, "--from-beginning", "--timeout", "300ms")
	if res.stdout != "" {
		t.Fatalf("consume of an empty topic printed %q", res.stdout)
	}
}

func TestConsumeWaitsForMissingTopic(t *testing.T) {
	env := testkit.Env(t)
	topic := uniqueTopic("missing")
	res := mustRun(t, env, "", "consume", "--topic", topic, "--timeout", "300ms")
	if res.stdout != "" || !strings.Contains(res.stderr, "topic "+topic+" does not exist yet") {
		t.Fatalf("stdout %q, stderr %q", res.stdout, res.stderr)
	}
	// Consume must not have created it (sluice creates topics with the right partitions).
	res = runCLI(t, env, "", "consume", "--topic", topic, "--timeout", "1ms")
	if !strings.Contains(res.stderr, "does not exist yet") {
		t.Fatalf("consume created topic %s: %q", topic, res.stderr)
	}
}

func TestConsumeFromEndWithoutGroup(t *testing.T) {
	env := testkit.Env(t)
	topic := uniqueTopic("from-end")
	createTopic(t, env, topic, 1)
	produceRaw(t, env, &kgo.Record{Topic: topic, Value: []byte("old")})

	// Start a consumer from the end: it must see only records produced after
	// it started.
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan cliResult, 1)
	go func() {
		done <- runCLICtx(ctx, env, strings.NewReader(""), "consume", "--topic", topic, "--max", "1", safety)
	}()
	// The consumer resolves "end" when it starts; keep producing new records
	// until it has printed one, so the test does not depend on timing.
	var res cliResult
	for finished := false; !finished; {
		produceRaw(t, env, &kgo.Record{Topic: topic, Value: []byte("new")})
		select {
		case res = <-done:
			finished = true
		case <-time.After(200 * time.Millisecond):
		}
	}
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	recs := parseConsumed(t, res.stdout)
	if len(recs) != 1 || recs[0].Offset == 0 {
		t.Fatalf("consume from the end printed %+v, want one new record", recs)
	}
	jsonEqual(t, recs[0].Value, `"new"`)
}

func TestConsumeGroupCommitsWhatItPrinted(t *testing.T) {
	env := testkit.Env(t)
	topic := uniqueTopic("group")
	createTopic(t, env, topic, 1)
	mustRun(t, env, "1\n2\n3\n", "produce", "--topic", topic, "--codec", "string")
	group := uniqueTopic("g")

	first := parseConsumed(t, mustRun(t, env, "", "consume", "--topic", topic, "--group", group,
		"--from-beginning", "--max", "2", safety).stdout)
	second := parseConsumed(t, mustRun(t, env, "", "consume", "--topic", topic, "--group", group,
		"--max", "1", safety).stdout)
	if len(first) != 2 || len(second) != 1 || first[0].Offset != 0 || first[1].Offset != 1 || second[0].Offset != 2 {
		t.Fatalf("group consumes gave offsets %+v then %+v, want 0,1 then 2", first, second)
	}
}

func TestConsumeInterruptExitsZero(t *testing.T) {
	env := testkit.Env(t)
	topic := uniqueTopic("sigint")
	createTopic(t, env, topic, 1)
	produceRaw(t, env, &kgo.Record{Topic: topic, Value: []byte("only")})

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out := &signalWriter{wrote: make(chan struct{})}
	done := make(chan int, 1)
	go func() {
		// No --max and no --timeout: runs until interrupted.
		done <- runWithEnv(ctx, []string{"consume", "--topic", topic, "--from-beginning"},
			strings.NewReader(""), out, io.Discard, envOf(env))
	}()
	testkit.Await(t, time.Minute, "consume to print the record", out.wrote)
	cancel()
	if code := testkit.Await(t, time.Minute, "the interrupted consume to exit", done); code != ExitOK {
		t.Fatalf("interrupted consume exited %d, want 0", code)
	}
	if recs := parseConsumed(t, out.String()); len(recs) != 1 {
		t.Fatalf("printed %d records, want 1", len(recs))
	}
}

// signalWriter collects output and closes wrote on the first write.
type signalWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	wrote chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.once.Do(func() { close(w.wrote) })
	return w.buf.Write(p)
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

func TestWriteAvroJSONKeepsSchemaOrder(t *testing.T) {
	sc, err := codecs.NewSchemas().Parse(`{"type":"record","name":"R","fields":[
		{"name":"z","type":"string"},
		{"name":"inner","type":["null",{"type":"record","name":"I","fields":[
			{"name":"y","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"b","type":"boolean"}]}]},
		{"name":"list","type":{"type":"array","items":"I"}},
		{"name":"a","type":["null","string"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.UnixMilli(1700000000000).UTC()
	v := map[string]any{
		"a": nil, "z": "<z>",
		"inner": map[string]any{"b": true, "y": ts},
		"list":  []any{map[string]any{"b": false, "y": ts}},
	}
	var buf bytes.Buffer
	if err := writeAvroJSON(&buf, sc, v); err != nil {
		t.Fatal(err)
	}
	want := `{"z":"<z>","inner":{"y":1700000000000,"b":true},"list":[{"y":1700000000000,"b":false}],"a":null}`
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
}
