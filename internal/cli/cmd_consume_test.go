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

	"github.com/sluicehq/sluice/internal/render"
	"github.com/sluicehq/sluice/internal/testkit"
)

func TestConsumeRendersValues(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("render")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	testkit.Produce(t, env.Brokers(), []*kgo.Record{
		{Topic: topic, Key: []byte("k"), Value: []byte(` {"x": [1, "<b>"]} `),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("abc")}}},
		{Topic: topic, Value: []byte("plain text")},
		{Topic: topic, Key: []byte{0xff}, Value: []byte{0xff, 0xfe, 0x00}},
		{Topic: topic, Key: []byte("tombstone")},                 // null value
		{Topic: topic, Value: []byte{0, 0, 0, 0x7f, 0xff, 0xfe}}, // magic 0, unknown id
		{Topic: topic, Value: []byte("12.50")},
	})

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
	topic := testkit.Unique("empty")
	testkit.CreateTopic(t, env.Brokers(), topic, 2, nil)
	res := mustRun(t, env, "", "consume", "--topic", topic, "--from-beginning", "--timeout", "300ms")
	if res.stdout != "" {
		t.Fatalf("consume of an empty topic printed %q", res.stdout)
	}
}

func TestConsumeWaitsForMissingTopic(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("missing")
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
	topic := testkit.Unique("from-end")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	testkit.Produce(t, env.Brokers(), []*kgo.Record{{Topic: topic, Value: []byte("old")}})

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
		testkit.Produce(t, env.Brokers(), []*kgo.Record{{Topic: topic, Value: []byte("new")}})
		select {
		case res = <-done:
			finished = true
		case <-time.After(200 * time.Millisecond):
		}
	}
	if res.code != ExitOK {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	recs := parseRecords(t, res.stdout)
	if len(recs) != 1 || recs[0].Offset == 0 {
		t.Fatalf("consume from the end printed %+v, want one new record", recs)
	}
	jsonEqual(t, recs[0].Value, `"new"`)
}

func TestConsumeGroupCommitsWhatItPrinted(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("group")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	mustRun(t, env, "1\n2\n3\n", "produce", "--topic", topic, "--codec", "string")
	group := testkit.Unique("g")

	first := parseRecords(t, mustRun(t, env, "", "consume", "--topic", topic, "--group", group,
		"--from-beginning", "--max", "2", safety).stdout)
	second := parseRecords(t, mustRun(t, env, "", "consume", "--topic", topic, "--group", group,
		"--max", "1", safety).stdout)
	if len(first) != 2 || len(second) != 1 || first[0].Offset != 0 || first[1].Offset != 1 || second[0].Offset != 2 {
		t.Fatalf("group consumes gave offsets %+v then %+v, want 0,1 then 2", first, second)
	}
}

func TestConsumeInterruptExitsZero(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("sigint")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	testkit.Produce(t, env.Brokers(), []*kgo.Record{{Topic: topic, Value: []byte("only")}})

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
	if recs := parseRecords(t, out.String()); len(recs) != 1 {
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

// The JSON lines of consume are a contract: this pins their bytes for every
// codec (field names and order, null and {} for absent keys and headers,
// base64 for what is not UTF-8, HTML characters kept in JSON values).
func TestConsumeJSONLines(t *testing.T) {
	ts := time.UnixMilli(1700000000123)
	recs := []*kgo.Record{
		{Topic: "t", Partition: 2, Offset: 7, Timestamp: ts, Key: []byte("k"), Value: []byte(` {"x": [1, "<b>"]} `),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("a&b")}}},
		{Topic: "t", Offset: 8, Timestamp: ts, Value: []byte("plain <text>")},
		{Topic: "t", Offset: 9, Timestamp: ts, Key: []byte{0xff}, Value: []byte{0xff, 0xfe, 0x00}},
		{Topic: "t", Offset: 10, Timestamp: ts, Key: []byte("tombstone")},
		{Topic: "t", Offset: 11, Timestamp: ts, Value: []byte("12.50")},
	}
	const (
		first     = `{"topic":"t","partition":2,"offset":7,"timestamp":1700000000123,"key":"k","headers":{"trace":"a&b"},`
		plain     = `{"topic":"t","partition":0,"offset":8,"timestamp":1700000000123,"key":null,"headers":{},`
		binary    = `{"topic":"t","partition":0,"offset":9,"timestamp":1700000000123,"key":null,"key_base64":"/w==","headers":{},`
		tombstone = `{"topic":"t","partition":0,"offset":10,"timestamp":1700000000123,"key":"tombstone","headers":{},"value":null}` + "\n"
		number    = `{"topic":"t","partition":0,"offset":11,"timestamp":1700000000123,"key":null,"headers":{},`
	)
	for codec, want := range map[string]string{
		codecAuto: first + `"value":{"x":[1,"<b>"]}}` + "\n" +
			plain + `"value":"plain \u003ctext\u003e"}` + "\n" +
			binary + `"value_base64":"//4A"}` + "\n" +
			tombstone +
			number + `"value":12.50}` + "\n",
		codecJSON: first + `"value":{"x":[1,"<b>"]}}` + "\n" +
			plain + `"value":"plain \u003ctext\u003e","error":"value is not valid JSON"}` + "\n" +
			binary + `"value_base64":"//4A","error":"value is not valid JSON"}` + "\n" +
			tombstone +
			number + `"value":12.50}` + "\n",
		codecString: first + `"value":" {\"x\": [1, \"\u003cb\u003e\"]} "}` + "\n" +
			plain + `"value":"plain \u003ctext\u003e"}` + "\n" +
			binary + `"value_base64":"//4A"}` + "\n" +
			tombstone +
			number + `"value":"12.50"}` + "\n",
		codecBytes: first + `"value_base64":"IHsieCI6IFsxLCAiPGI+Il19IA=="}` + "\n" +
			plain + `"value_base64":"cGxhaW4gPHRleHQ+"}` + "\n" +
			binary + `"value_base64":"//4A"}` + "\n" +
			tombstone +
			number + `"value_base64":"MTIuNTA="}` + "\n",
	} {
		var buf bytes.Buffer
		p := &recordPrinter{enc: render.NewEncoder(&buf), dec: &valueDecoder{codec: codec}}
		for _, r := range recs {
			if err := p.print(r); err != nil {
				t.Fatal(err)
			}
		}
		if got := buf.String(); got != want {
			t.Errorf("--codec %s printed\n%s\nwant\n%s", codec, got, want)
		}
	}
}
