package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// bigRecordBytes lets the test's producer write records of up to 12 MiB.
const bigRecordBytes = 12 << 20

// produceBig writes records synchronously with a producer that accepts
// records of up to bigRecordBytes.
func produceBig(t *testing.T, brokers []string, records []*kgo.Record) {
	t.Helper()
	cl := testkit.Client(t, brokers, kgo.ProducerBatchMaxBytes(bigRecordBytes), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := cl.ProduceSync(ctx, records...).FirstErr(); err != nil {
		t.Fatalf("producing %d records: %v", len(records), err)
	}
}

// inputHeaders are the application headers of the i-th test record, with a
// name repeated: outputs and dead letters must keep them all, in order.
func inputHeaders(i int) []kgo.RecordHeader {
	return []kgo.RecordHeader{
		{Key: "traceparent", Value: []byte("t-" + strconv.Itoa(i))},
		{Key: "tag", Value: []byte("a")},
		{Key: "tag", Value: []byte("b")},
	}
}

// appHeaders renders a record's non-sluice headers in order.
func appHeaders(r *kgo.Record) string {
	var out []string
	for _, h := range r.Headers {
		if !strings.HasPrefix(h.Key, "sluice.") {
			out = append(out, h.Key+"="+string(h.Value))
		}
	}
	return strings.Join(out, " ")
}

// TestOversizeRecords feeds both reference pipelines (one process, one
// input) records too large for what they would write: a 1,048,300-byte
// undecodable value and a 10 MB event (poison too: the Avro decoder takes
// strings of at most 1 MiB), whose dead letters would not fit the
// dead-letter topic, and a valid event whose JSON would not fit (its country
// is 200,000 '<', six bytes each in JSON, one in Avro): big-purchases'
// output. (user-stats' table entry and output are Avro: they fit, and
// user-stats applies it; TestOversizeTableEntry covers a table entry that
// does not fit.) Each becomes an oversize dead letter —
// without its value when the dead letter itself would not fit, with its
// headers and source coordinates always —
// the partition goes on, the counts add up, both pipelines behave alike and
// their groups commit everything. Then the value-less letter is replayed
// from its source record.
func TestOversizeRecords(t *testing.T) {
	env := testkit.Env(t)
	cfg, names := referenceConfig(t, env)
	brokers := env.Brokers()
	// One partition keeps every record of the test in order; the input
	// accepts records of 11 MB, the topics sluice creates keep the default.
	testkit.CreateTopic(t, brokers, names.input, 1, map[string]string{"max.message.bytes": "11000000"})
	_, v2 := userEventCodecs(t, env.RegistryURL(), names.input)

	const key = "whale"
	ts := int64(1790000000000)
	country := "KR"
	huge := strings.Repeat("x", 10<<20)
	escaped := strings.Repeat("<", 200000)
	first := demo.Event{Key: key, Kind: demo.KindValid, EventType: "purchase", Amount: 150, TS: ts, Country: &country}
	third := demo.Event{Key: key, Kind: demo.KindValid, EventType: "purchase", Amount: 200, TS: ts + 3, Country: &escaped}
	last := demo.Event{Key: key, Kind: demo.KindValid, EventType: "login", Amount: 0, TS: ts + 4}
	events := []demo.Event{
		first,
		{}, // the undecodable value
		{Key: key, Kind: demo.KindValid, EventType: "purchase", Amount: 500, TS: ts + 2, Country: &huge},
		third,
		last,
	}
	garbage := bytes.Repeat([]byte{0xfe}, 1048300)
	garbage[0] = 1 // a magic byte other than 0: poison at decode
	var records []*kgo.Record
	for i, e := range events {
		value := garbage
		if i != 1 {
			var err error
			if value, err = v2(e.Fields()); err != nil {
				t.Fatal(err)
			}
		}
		records = append(records, &kgo.Record{Topic: names.input, Key: []byte(key), Value: value, Headers: inputHeaders(i)})
	}
	if n := len(records[2].Value); n < 10<<20 {
		t.Fatalf("the 10 MB event encodes to %d bytes", n)
	}
	produceBig(t, brokers, records)

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	us := waitConsumed(t, rt, names.stats, int64(len(records)), 2*time.Minute)
	bp := waitConsumed(t, rt, names.big, int64(len(records)), 2*time.Minute)
	testkit.WaitLagZero(t, brokers, names.statsGroup, names.input, time.Minute)
	testkit.WaitLagZero(t, brokers, names.bigGroup, names.input, time.Minute)
	t.Logf("user-stats %+v; big-purchases %+v", us, bp)
	if us.Consumed != 5 || us.Processed != 3 || us.Filtered != 0 || us.DeadLettered != 2 {
		t.Errorf("user-stats counts %+v, want 5 consumed = 3 processed + 2 dead-lettered", us)
	}
	if bp.Consumed != 5 || bp.Processed != 1 || bp.Filtered != 1 || bp.DeadLettered != 3 {
		t.Errorf("big-purchases counts %+v, want 5 consumed = 1 processed + 1 filtered + 3 dead-lettered", bp)
	}
	for _, st := range rt.Status(context.Background()) {
		if st.Phase != pipeline.PhaseRunning || st.LastError != "" {
			t.Errorf("pipeline %s: phase %s, last error %q: it must never fail on a large record", st.Name, st.Phase, st.LastError)
		}
	}

	// The dead letters: by pipeline and source offset, the stage and
	// whether the value is there.
	type expected struct {
		stage string
		value bool
	}
	wants := map[string]expected{
		names.stats + "@1": {deadletter.StageDecode, false},
		names.stats + "@2": {deadletter.StageDecode, false},
		names.big + "@1":   {deadletter.StageDecode, false},
		names.big + "@2":   {deadletter.StageDecode, false},
		names.big + "@3":   {deadletter.StageEmit, true},
	}
	letters := testkit.ReadAll(t, brokers, names.dlq, len(wants), time.Minute)
	if n := testkit.TopicSize(t, brokers, names.dlq); n != int64(len(wants)) {
		t.Errorf("%d dead letters, want %d", n, len(wants))
	}
	for _, d := range letters {
		off := mustHeader(t, d, deadletter.HeaderSourceOffset)
		id := mustHeader(t, d, deadletter.HeaderPipeline) + "@" + off
		w, ok := wants[id]
		if !ok {
			t.Errorf("unexpected dead letter %s", id)
			continue
		}
		delete(wants, id)
		i, _ := strconv.Atoi(off)
		orig := records[i]
		msg := mustHeader(t, d, deadletter.HeaderMessage)
		if got := mustHeader(t, d, deadletter.HeaderStage); got != w.stage {
			t.Errorf("%s: stage %s, want %s (%s)", id, got, w.stage, msg)
		}
		if got := mustHeader(t, d, deadletter.HeaderKind); got != deadletter.KindOversize {
			t.Errorf("%s: kind %s, want oversize (%s)", id, got, msg)
		}
		if mustHeader(t, d, deadletter.HeaderSourceTopic) != names.input || mustHeader(t, d, deadletter.HeaderSourcePartition) != "0" ||
			mustHeader(t, d, deadletter.HeaderSourceTimestamp) == "" || mustHeader(t, d, deadletter.HeaderAttempts) != "1" {
			t.Errorf("%s: source coordinates or attempts wrong: %v", id, d.Headers)
		}
		if got, want := appHeaders(d), appHeaders(orig); got != want {
			t.Errorf("%s: input headers %q, want %q", id, got, want)
		}
		if !bytes.Equal(d.Key, orig.Key) {
			t.Errorf("%s: key %q, want %q", id, d.Key, orig.Key)
		}
		switch {
		case w.value && !bytes.Equal(d.Value, orig.Value):
			t.Errorf("%s: value of %d bytes, want the original %d", id, len(d.Value), len(orig.Value))
		case !w.value && d.Value != nil:
			t.Errorf("%s: value of %d bytes, want it left out", id, len(d.Value))
		case !w.value && !strings.Contains(msg, fmt.Sprintf("value of %d bytes left out", len(orig.Value))):
			t.Errorf("%s: message %q does not say the value was left out", id, msg)
		}
	}
	for id := range wants {
		t.Errorf("no dead letter %s", id)
	}

	// Outputs and state: user-stats applied the three events that decode,
	// big-purchases wrote the first purchase only; outputs carry their
	// input's headers.
	want := testkit.ExpectUserStats([]demo.Event{first, third, last})
	compareStats(t, "table", want, tableStates(t, rt, names.stats, want))
	outs := testkit.ReadToEnd(t, brokers, names.stats)
	if len(outs) != 3 || appHeaders(outs[0]) != appHeaders(records[0]) || appHeaders(outs[1]) != appHeaders(records[3]) || appHeaders(outs[2]) != appHeaders(records[4]) {
		t.Fatalf("user-stats outputs: %d records %v, want 3 with the input's headers", len(outs), outs)
	}
	compareStats(t, "last output", want, lastOutputs(t, env.RegistryURL(), outs))
	bigs := testkit.ReadToEnd(t, brokers, names.big)
	if len(bigs) != 1 || appHeaders(bigs[0]) != appHeaders(records[0]) {
		t.Fatalf("big-purchases outputs: %v, want the first purchase's", bigs)
	}
	var b testkit.BigPurchase
	if err := json.Unmarshal(bigs[0].Value, &b); err != nil || b.UserID != key || b.Amount != 150 || !sameCountry(b.Country, &country) {
		t.Errorf("big-purchases output %s (%v)", bigs[0].Value, err)
	}

	// The value-less letter replays from the source record, whole, in a
	// batch as large as the target topic allows.
	target := testkit.Unique("replayed")
	testkit.CreateTopic(t, brokers, target, 1, map[string]string{"max.message.bytes": "2000000"})
	filter, err := dlq.CompileFilter(fmt.Sprintf(`pipeline == %q && offset == 1`, names.stats))
	if err != nil {
		t.Fatal(err)
	}
	st, err := dlq.Replay(t.Context(), names.dlq, dlq.WithTarget(target), dlq.WithFilter(filter),
		dlq.WithClientOpts(testkit.KafkaOpts(t, brokers)...))
	if err != nil || st.Replayed != 1 {
		t.Fatalf("replay: %+v, %v", st, err)
	}
	replayed := testkit.ReadAll(t, brokers, target, 1, time.Minute)
	r := replayed[0]
	if !bytes.Equal(r.Value, garbage) || string(r.Key) != key || appHeaders(r) != appHeaders(records[1]) ||
		mustHeader(t, r, deadletter.HeaderReplayCount) != "1" || mustHeader(t, r, deadletter.HeaderReplayPipeline) != names.stats {
		t.Errorf("replayed %q, %d bytes (the original has %d), headers %v", r.Key, len(r.Value), len(garbage), r.Headers)
	}
	if _, ok := codecs.FrameSchemaID(r.Value); ok {
		t.Errorf("the replayed value reads as a frame")
	}
}

// headersConfig declares three JSON pipelines on one input, alike but for
// their headers setting: U-keep (the default, and a validate step), U-only
// (headers: [traceparent]) and U-drop (headers: drop).
func headersConfig(t *testing.T, brokers []string, u string) *pipeline.Config {
	t.Helper()
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %[1]s
  partitions: 1
  heartbeat: 100ms
  session_timeout: 6s
pipelines:
  - name: %[2]s-keep
    input: {topic: %[2]s-in, codec: json}
    dead_letter: %[2]s-dlq
    outputs:
      out: {topic: %[2]s-keep, codec: json}
    steps:
      - validate:
          - check: amount >= 0
            message: amount must not be negative
      - emit: out
  - name: %[2]s-only
    input: {topic: %[2]s-in, codec: json}
    dead_letter: %[2]s-dlq
    headers: [traceparent]
    outputs:
      out: {topic: %[2]s-only, codec: json}
    steps:
      - emit: out
  - name: %[2]s-drop
    input: {topic: %[2]s-in, codec: json}
    dead_letter: %[2]s-dlq
    headers: drop
    outputs:
      out: {topic: %[2]s-drop, codec: json}
    steps:
      - emit: out
`, strings.Join(brokers, ","), u)
	cfg, err := pipeline.Parse("headers.yaml", []byte(testkit.SecureConfig(src)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// keyOf renders a record key, telling a null key from an empty one.
func keyOf(r *kgo.Record) string {
	if r.Key == nil {
		return "<null>"
	}
	return strconv.Quote(string(r.Key))
}

// TestHeadersAndNullKeys checks what outputs and dead letters carry of their
// input: every header in order (repeated names too) on dead letters, with
// the sluice ones winning a clash; on outputs what the pipeline's headers
// setting keeps, never sluice.* ones, always the trace context (with
// tracing off, the input's traceparent unchanged); and null keys stay null,
// empty keys empty, everywhere.
func TestHeadersAndNullKeys(t *testing.T) {
	brokers := testkit.Brokers(t)
	u := testkit.Unique("hdr")
	cfg := headersConfig(t, brokers, u)
	testkit.CreateTopic(t, brokers, u+"-in", 1, nil)
	h := func(kv ...string) []kgo.RecordHeader {
		var out []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			out = append(out, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return out
	}
	records := []*kgo.Record{
		{Key: []byte("k0"), Value: []byte(`{"amount":1}`), Headers: h("traceparent", "t0", "tenant", "acme", "tag", "a", "tag", "b",
			deadletter.HeaderReplayCount, "1", deadletter.HeaderStage, "fake")},
		{Key: nil, Value: []byte(`{"amount":2}`), Headers: h("traceparent", "t1")},
		{Key: []byte{}, Value: []byte(`{"amount":3}`)},
		{Key: nil, Value: []byte(`{"amount":-1}`), Headers: h("traceparent", "t3", deadletter.HeaderStage, "fake", "tenant", "acme")},
		{Key: []byte("k4"), Value: []byte(`oops`), Headers: h("tenant", "acme", deadletter.HeaderReplayCount, "2")},
	}
	for _, r := range records {
		r.Topic = u + "-in"
	}
	testkit.Produce(t, brokers, records)
	for _, r := range testkit.ReadToEnd(t, brokers, u+"-in") {
		if got, want := keyOf(r), keyOf(records[r.Offset]); got != want {
			t.Fatalf("the input's key %d reads back as %s, want %s: the broker or client does not keep null keys", r.Offset, got, want)
		}
	}

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	for name, want := range map[string]pipeline.Counts{
		u + "-keep": {Consumed: 5, Processed: 3, DeadLettered: 2},
		u + "-only": {Consumed: 5, Processed: 4, DeadLettered: 1},
		u + "-drop": {Consumed: 5, Processed: 4, DeadLettered: 1},
	} {
		if got := waitConsumed(t, rt, name, 5, time.Minute); got != want {
			t.Errorf("%s counts %+v, want %+v", name, got, want)
		}
	}

	// Outputs: source offset -> key and headers.
	render := func(recs []*kgo.Record) []string {
		var out []string
		for _, r := range recs {
			var v struct{ Amount int }
			if err := json.Unmarshal(r.Value, &v); err != nil {
				t.Fatalf("output %q: %v", r.Value, err)
			}
			var hs []string
			for _, h := range r.Headers {
				hs = append(hs, h.Key+"="+string(h.Value))
			}
			out = append(out, fmt.Sprintf("amount %d key %s headers [%s]", v.Amount, keyOf(r), strings.Join(hs, " ")))
		}
		return out
	}
	for topic, want := range map[string][]string{
		u + "-keep": {
			`amount 1 key "k0" headers [traceparent=t0 tenant=acme tag=a tag=b]`,
			`amount 2 key <null> headers [traceparent=t1]`,
			`amount 3 key "" headers []`,
		},
		u + "-only": {
			`amount 1 key "k0" headers [traceparent=t0]`,
			`amount 2 key <null> headers [traceparent=t1]`,
			`amount 3 key "" headers []`,
			`amount -1 key <null> headers [traceparent=t3]`,
		},
		// headers: drop drops all but the trace context.
		u + "-drop": {
			`amount 1 key "k0" headers [traceparent=t0]`,
			`amount 2 key <null> headers [traceparent=t1]`,
			`amount 3 key "" headers []`,
			`amount -1 key <null> headers [traceparent=t3]`,
		},
	} {
		got := render(testkit.ReadAll(t, brokers, topic, len(want), time.Minute))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("outputs of %s:\n%s\nwant:\n%s", topic, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if n := testkit.TopicSize(t, brokers, topic); n != int64(len(want)) {
			t.Errorf("%s holds %d records, want %d", topic, n, len(want))
		}
	}

	// Dead letters: the input's headers in order, less the names the
	// sluice ones take, then the sluice ones.
	wantLetters := map[string]string{
		u + "-keep@3": `key <null> value {"amount":-1} input [traceparent=t3 tenant=acme] stage validate`,
		u + "-keep@4": `key "k4" value oops input [tenant=acme sluice.replay.count=2] stage decode`,
		u + "-only@4": `key "k4" value oops input [tenant=acme sluice.replay.count=2] stage decode`,
		u + "-drop@4": `key "k4" value oops input [tenant=acme sluice.replay.count=2] stage decode`,
	}
	letters := testkit.ReadAll(t, brokers, u+"-dlq", len(wantLetters), time.Minute)
	if n := testkit.TopicSize(t, brokers, u+"-dlq"); n != int64(len(wantLetters)) {
		t.Errorf("%d dead letters, want %d", n, len(wantLetters))
	}
	for _, d := range letters {
		id := mustHeader(t, d, deadletter.HeaderPipeline) + "@" + mustHeader(t, d, deadletter.HeaderSourceOffset)
		var input []string
		stages := 0
		for _, h := range d.Headers {
			switch {
			case h.Key == deadletter.HeaderStage:
				stages++
			case !deadletter.IsFailureHeader(h.Key):
				input = append(input, h.Key+"="+string(h.Value))
			}
		}
		got := fmt.Sprintf("key %s value %s input [%s] stage %s", keyOf(d), d.Value, strings.Join(input, " "), mustHeader(t, d, deadletter.HeaderStage))
		if got != wantLetters[id] || stages != 1 {
			t.Errorf("dead letter %s: %s (%d stage headers)\nwant %s", id, got, stages, wantLetters[id])
		}
		delete(wantLetters, id)
	}
	for id := range wantLetters {
		t.Errorf("no dead letter %s", id)
	}
}
