package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/dlq"
	"github.com/sluicehq/sluice/internal/testkit"
)

// headerTrace is an application header every test dead letter carries; its
// value (the letter's index) identifies the letter after a replay.
const headerTrace = "trace-id"

// numLetters is how many dead letters the tests write.
const numLetters = 200

// deadLetters describes the dead letters a test wrote.
type deadLetters struct {
	topic, source string
	records       []*kgo.Record // by index (= trace-id)
}

// writeDeadLetters writes n dead letters to a new 3-partition topic as a
// pipeline would: the stage cycles through decode, validate, map, validate;
// values cycle through an Avro frame (with its schema id header), JSON,
// plain text and binary bytes.
func writeDeadLetters(t *testing.T, env *devenv.Env, n int) *deadLetters {
	t.Helper()
	brokers := env.Brokers()
	d := &deadLetters{topic: testkit.Unique("user-topic-dlq"), source: testkit.Unique("user-topic")}
	testkit.CreateTopic(t, brokers, d.topic, 3, nil)
	testkit.CreateTopic(t, brokers, d.source, 3, nil)

	// Real Confluent frames: produce Avro through the CLI, read them back raw.
	scratch := testkit.Unique("frames")
	testkit.CreateTopic(t, brokers, scratch, 1, nil)
	mustRun(t, env, userEventsIn, "produce", "--topic", scratch, "--schema", userEventSchema, "--key-field", "user_id")
	frames := testkit.ReadAll(t, brokers, scratch, 3, time.Minute)

	stages := []string{deadletter.StageDecode, "validate", "map", "validate"}
	for i := range n {
		stage := stages[i%4]
		kind, attempts := deadletter.KindPoison, 1
		if stage == "map" {
			kind, attempts = deadletter.KindExhausted, 3
		}
		h := []kgo.RecordHeader{
			{Key: headerTrace, Value: []byte(strconv.Itoa(i))},
			{Key: deadletter.HeaderPipeline, Value: []byte("user-stats")},
			{Key: deadletter.HeaderStage, Value: []byte(stage)},
			{Key: deadletter.HeaderKind, Value: []byte(kind)},
			{Key: deadletter.HeaderMessage, Value: []byte(fmt.Sprintf("%s failed for letter %d", stage, i))},
			{Key: deadletter.HeaderSourceTopic, Value: []byte(d.source)},
			{Key: deadletter.HeaderSourcePartition, Value: []byte(strconv.Itoa(i % 3))},
			{Key: deadletter.HeaderSourceOffset, Value: []byte(strconv.Itoa(i / 3))},
			{Key: deadletter.HeaderSourceTimestamp, Value: []byte(strconv.Itoa(1700000000000 + i*1000))},
			{Key: deadletter.HeaderAttempts, Value: []byte(strconv.Itoa(attempts))},
		}
		var value []byte
		switch i % 4 {
		case 0:
			f := frames[(i/4)%len(frames)]
			value = f.Value
			h = append(h, kgo.RecordHeader{Key: deadletter.HeaderSchemaID, Value: []byte(schemaIDOf(t, value))})
		case 1:
			value = []byte(fmt.Sprintf(`{"user_id":"user-%d","event_type":"purchase","amount":-%d}`, i, i))
		case 2:
			value = []byte(fmt.Sprintf("not json %d", i))
		case 3:
			value = []byte{0xff, 0x00, byte(i)}
		}
		d.records = append(d.records, &kgo.Record{Topic: d.topic, Key: []byte(fmt.Sprintf("user-%d", i)),
			Value: value, Headers: h})
	}
	testkit.Produce(t, brokers, d.records)
	return d
}

// schemaIDOf returns the schema id of a Confluent frame.
func schemaIDOf(t *testing.T, frame []byte) string {
	t.Helper()
	if len(frame) < 5 || frame[0] != 0 {
		t.Fatalf("not a Confluent frame: %x", frame)
	}
	id := int(frame[1])<<24 | int(frame[2])<<16 | int(frame[3])<<8 | int(frame[4])
	return strconv.Itoa(id)
}

func TestDLQInspect(t *testing.T) {
	env := testkit.Env(t)
	d := writeDeadLetters(t, env, numLetters)

	es := parseRecords(t, mustRun(t, env, "", "dlq", "inspect", "--topic", d.topic, "--format", "json", safety).stdout)
	if len(es) != numLetters {
		t.Fatalf("inspect printed %d dead letters, want %d", len(es), numLetters)
	}
	seen := map[int]bool{}
	for _, e := range es {
		i, err := strconv.Atoi(e.Headers[headerTrace])
		if err != nil || seen[i] {
			t.Fatalf("bad or repeated trace id in %+v", e)
		}
		seen[i] = true
		orig := d.records[i]
		if e.Pipeline != "user-stats" || e.Topic != d.source || e.Partition != int32(i%3) ||
			e.Offset != int64(i/3) || e.Timestamp != int64(1700000000000+i*1000) ||
			e.Message != fmt.Sprintf("%s failed for letter %d", e.Stage, i) ||
			e.Key == nil || *e.Key != string(orig.Key) || e.DLQ.Topic != d.topic || e.ReplayCount != 0 {
			t.Fatalf("letter %d: %+v", i, e)
		}
		switch i % 4 {
		case 0: // Avro, decoded by its writer schema from the registry
			if strconv.Itoa(e.SchemaID) != schemaIDOf(t, orig.Value) || e.Stage != deadletter.StageDecode {
				t.Errorf("letter %d: schema id %d, stage %s", i, e.SchemaID, e.Stage)
			}
			var v struct {
				TS int64 `json:"ts"`
			}
			if err := json.Unmarshal(e.Value, &v); err != nil {
				t.Fatalf("letter %d: Avro value %s not decoded: %v", i, e.Value, err)
			}
			jsonEqual(t, e.Value, wantUserEvents[v.TS])
		case 1:
			jsonEqual(t, e.Value, string(orig.Value))
		case 2:
			jsonEqual(t, e.Value, strconv.Quote(string(orig.Value)))
		case 3:
			if e.Value != nil || e.ValueBase64 == "" {
				t.Errorf("letter %d: binary value rendered as %s / %q", i, e.Value, e.ValueBase64)
			}
		}
		if e.Stage == "map" && (e.Kind != deadletter.KindExhausted || e.Attempts != 3) {
			t.Errorf("letter %d: kind %s attempts %d", i, e.Kind, e.Attempts)
		}
	}

	// Filters see the headers and the decoded value. The Avro letters
	// cycle through signup, purchase and login events.
	avroPurchases := 0
	for i := 0; i < numLetters; i += 4 {
		if (i/4)%3 == 1 {
			avroPurchases++
		}
	}
	for filter, want := range map[string]int{
		`stage == "validate"`:                  numLetters / 2,
		`kind == "exhausted" && attempts == 3`: numLetters / 4,
		`type(value) == "map" && value.event_type == "purchase" && schema_id > 0`: avroPurchases,
		`headers["trace-id"] in ["1", "2", "3"] && partition == 1 && offset == 0`: 1,
	} {
		res := mustRun(t, env, "", "dlq", "inspect", "--topic", d.topic, "--filter", filter, safety)
		if got := len(parseRecords(t, res.stdout)); got != want || res.stderr != "" {
			t.Errorf("--filter %s printed %d dead letters (want %d), stderr %q", filter, got, want, res.stderr)
		}
	}
	// value.amount fails on the text values: they do not match, with a warning.
	res := mustRun(t, env, "", "dlq", "inspect", "--topic", d.topic, "--filter", "value != nil && value.amount < 0", safety)
	if got := len(parseRecords(t, res.stdout)); got != numLetters/4 ||
		!strings.Contains(res.stderr, fmt.Sprintf("--filter failed on %d of %d dead letters", numLetters/4, numLetters)) {
		t.Errorf("--filter value.amount < 0 printed %d (want %d), stderr %q", got, numLetters/4, res.stderr)
	}
	if got := len(parseRecords(t, mustRun(t, env, "", "dlq", "inspect", "--topic", d.topic, "--max", "7", safety).stdout)); got != 7 {
		t.Errorf("--max 7 printed %d", got)
	}

	table := mustRun(t, env, "", "dlq", "inspect", "--topic", d.topic, "--format", "table", "--max", "4", safety).stdout
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 5 || !strings.HasPrefix(lines[0], "DLQ ") || !strings.Contains(table, "user-stats") ||
		strings.Index(lines[1], "user-stats") != strings.Index(lines[0], "PIPELINE") {
		t.Errorf("table output:\n%s", table)
	}
}

func TestDLQInspectUsage(t *testing.T) {
	env := testkit.Env(t)
	d := writeDeadLetters(t, env, 4)
	for _, args := range [][]string{
		{"--filter", `stag == "validate"`},
		{"--filter", `attempts + "x"`},
		{"--filter", `stage`}, // not a boolean
		{"--format", "yaml"},
		{"--max", "-1"},
	} {
		res := runCLI(t, env, "", append([]string{"dlq", "inspect", "--topic", d.topic}, args...)...)
		if res.code != ExitUsage || res.stdout != "" {
			t.Errorf("inspect %v: exit %d, stdout %q, stderr %q; want exit 2", args, res.code, res.stdout, res.stderr)
		}
	}
	res := runCLI(t, env, "", "dlq", "inspect", "--topic", d.topic, "--filter", `stag == "validate"`)
	if !strings.Contains(res.stderr, "unknown name stag") {
		t.Errorf("a typo's message does not name it: %q", res.stderr)
	}
	res = runCLI(t, env, "", "dlq", "inspect", "--topic", testkit.Unique("missing"))
	if res.code != ExitFailure || !strings.Contains(res.stderr, "does not exist") {
		t.Errorf("missing topic: exit %d, %q", res.code, res.stderr)
	}
	res = runCLI(t, env, "", "dlq", "replay", "--topic", d.topic, "--filter", "nope(")
	if res.code != ExitUsage {
		t.Errorf("replay with a bad filter: exit %d, %q", res.code, res.stderr)
	}
}

// readCommitted reads every committed record of topic up to its current end
// (read_committed), in partition order.
func readCommitted(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl := testkit.Client(t, brokers)
	ends := settledEndOffsets(t, cl, topic)
	starts := map[int32]kgo.Offset{}
	open := map[int32]bool{}
	for p, o := range ends {
		starts[p] = kgo.NewOffset().AtStart()
		if o > 0 {
			open[p] = true
		}
	}
	rd := testkit.Client(t, brokers, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()), kgo.KeepControlRecords(), kgo.FetchMaxWait(200*time.Millisecond))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var out []*kgo.Record
	for len(open) > 0 {
		fs := rd.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v (open partitions %v)", topic, ctx.Err(), open)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset >= ends[r.Partition] {
				return
			}
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if r.Offset+1 >= ends[r.Partition] {
				delete(open, r.Partition)
			}
		})
	}
	return out
}

// settledEndOffsets waits until no transaction is open on topic (a
// committed transaction's markers are written after its producer was told
// so: on a real broker the last stable offset trails for a moment) and
// returns its end offsets.
func settledEndOffsets(t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	type ends struct{ Stable, High map[int32]int64 }
	e := testkit.EventuallyValue(t, time.Minute, "the transactions on "+topic+" to settle", func() (ends, bool) {
		e := ends{listEndOffsets(t, cl, topic, 1), listEndOffsets(t, cl, topic, 0)}
		return e, maps.Equal(e.Stable, e.High)
	})
	return e.Stable
}

// endOffsets returns the last stable offsets of topic's partitions.
func endOffsets(t *testing.T, cl *kgo.Client, topic string) map[int32]int64 {
	t.Helper()
	return listEndOffsets(t, cl, topic, 1)
}

// listEndOffsets returns the end offsets of topic's partitions for an
// isolation level: 0 the high watermarks, 1 the last stable offsets.
func listEndOffsets(t *testing.T, cl *kgo.Client, topic string, isolation int8) map[int32]int64 {
	t.Helper()
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	mresp, err := meta.RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = isolation
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for _, p := range mresp.Topics[0].Partitions {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition, rp.Timestamp, rp.CurrentLeaderEpoch = p.Partition, -1, -1
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(t.Context(), cl)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for _, p := range resp.Topics[0].Partitions {
		if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
			t.Fatalf("end offsets of %s: %v", topic, err)
		}
		out[p.Partition] = p.Offset
	}
	return out
}

// checkReplayed checks that target holds every dead letter of d exactly once
// with identical key and value bytes, the application headers,
// sluice.replay.count = count and sluice.replay.pipeline = pipeline (absent
// when pipeline is "").
func checkReplayed(t *testing.T, d *deadLetters, recs []*kgo.Record, count, pipeline string) {
	t.Helper()
	seen := map[int]int{}
	for _, r := range recs {
		i, err := strconv.Atoi(headerOf(r, headerTrace))
		if err != nil || i < 0 || i >= len(d.records) {
			t.Fatalf("replayed record without a known trace id: %+v", r)
		}
		seen[i]++
		orig := d.records[i]
		if !bytes.Equal(r.Key, orig.Key) || !bytes.Equal(r.Value, orig.Value) {
			t.Errorf("letter %d: key/value changed: %q/%x, want %q/%x", i, r.Key, r.Value, orig.Key, orig.Value)
		}
		if got := headerOf(r, deadletter.HeaderReplayCount); got != count {
			t.Errorf("letter %d: %s = %q, want %q", i, deadletter.HeaderReplayCount, got, count)
		}
		if got, ok := testkit.Header(r, deadletter.HeaderReplayPipeline); got != pipeline || ok != (pipeline != "") {
			t.Errorf("letter %d: %s = %q (present %v), want %q", i, deadletter.HeaderReplayPipeline, got, ok, pipeline)
		}
		for _, h := range r.Headers {
			if h.Key != headerTrace && h.Key != deadletter.HeaderReplayCount && h.Key != deadletter.HeaderReplayPipeline {
				t.Errorf("letter %d: replayed with header %s", i, h.Key)
			}
		}
	}
	var missing, dup []int
	for i := range d.records {
		switch seen[i] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			dup = append(dup, i)
		}
	}
	if len(missing) > 0 || len(dup) > 0 || len(recs) != len(d.records) {
		t.Fatalf("%d records replayed for %d dead letters; missing %v, duplicated %v",
			len(recs), len(d.records), missing, dup)
	}
}

func headerOf(r *kgo.Record, key string) string {
	v, _ := testkit.Header(r, key)
	return v
}

// newTarget creates an empty topic to replay to, with the three partitions
// of the dead letters' source topic.
func newTarget(t *testing.T, brokers []string, prefix string) string {
	t.Helper()
	target := testkit.Unique(prefix)
	testkit.CreateTopic(t, brokers, target, 3, nil)
	return target
}

func TestDLQReplayToTopic(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	d := writeDeadLetters(t, env, numLetters)
	target := newTarget(t, brokers, "replayed")

	res := mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--to", target)
	want := fmt.Sprintf("replayed %d, skipped 0, to topics {%s: %d}", numLetters, target, numLetters)
	if !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, fmt.Sprintf("%d/%d", numLetters, numLetters)) {
		t.Fatalf("stderr %q, want the progress and %q", res.stderr, want)
	}
	replayed := readCommitted(t, brokers, target)
	checkReplayed(t, d, replayed, "1", "user-stats")
	for _, r := range replayed { // placed in the source partition
		i, _ := strconv.Atoi(headerOf(r, headerTrace))
		if r.Partition != int32(i%3) {
			t.Errorf("letter %d went to partition %d, want its source partition %d", i, r.Partition, i%3)
		}
	}

	// The group committed everything: a second run has nothing to do.
	res = mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--to", target)
	if !strings.Contains(res.stderr, "replayed 0, skipped 0") {
		t.Errorf("second replay: %q", res.stderr)
	}

	// Dead-letter the replayed records again: a new replay counts 2. These
	// copies name no pipeline, so the replay addresses them to none.
	again := &deadLetters{topic: testkit.Unique("user-topic-dlq"), source: d.source, records: make([]*kgo.Record, len(d.records))}
	testkit.CreateTopic(t, brokers, again.topic, 1, nil)
	for _, r := range replayed {
		i, _ := strconv.Atoi(headerOf(r, headerTrace))
		h := append(append([]kgo.RecordHeader(nil), r.Headers...),
			kgo.RecordHeader{Key: deadletter.HeaderStage, Value: []byte("validate")},
			kgo.RecordHeader{Key: deadletter.HeaderSourceTopic, Value: []byte(target)})
		again.records[i] = &kgo.Record{Topic: again.topic, Key: r.Key, Value: r.Value, Headers: h}
	}
	testkit.Produce(t, brokers, again.records)
	es := parseRecords(t, mustRun(t, env, "", "dlq", "inspect", "--topic", again.topic, "--filter", "replay_count == 1", safety).stdout)
	if len(es) != numLetters {
		t.Errorf("inspect --filter 'replay_count == 1' printed %d, want %d", len(es), numLetters)
	}
	target2 := newTarget(t, brokers, "replayed-twice")
	mustRun(t, env, "", "dlq", "replay", "--topic", again.topic, "--to", target2)
	checkReplayed(t, d, readCommitted(t, brokers, target2), "2", "")
}

// TestDLQReplayToSourceWithFilter replays with one filter, then with
// another: the letters the first run skipped are still there for the second
// (progress is per filter), and running a filter again replays nothing twice.
func TestDLQReplayToSourceWithFilter(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	d := writeDeadLetters(t, env, 40)

	res := mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--filter", `stage == "validate"`)
	want := fmt.Sprintf("replayed 20, skipped 20, to topics {%s: 20}", d.source)
	if !strings.Contains(res.stderr, want) {
		t.Fatalf("stderr %q, want %q", res.stderr, want)
	}
	recs := readCommitted(t, brokers, d.source)
	if len(recs) != 20 {
		t.Fatalf("source topic got %d records, want 20", len(recs))
	}
	for _, r := range recs {
		i, _ := strconv.Atoi(headerOf(r, headerTrace))
		if i%2 != 1 || r.Partition != int32(i%3) {
			t.Errorf("replayed letter %d (stage %s) to partition %d", i, []string{"decode", "validate", "map", "validate"}[i%4], r.Partition)
		}
	}
	// The same filter again: its group is done.
	res = mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--filter", `stage == "validate"`)
	if !strings.Contains(res.stderr, "replayed 0, skipped 0") {
		t.Errorf("the same filter again: %q", res.stderr)
	}
	// Another filter still finds the letters the first one skipped.
	res = mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--filter", `stage != "validate"`)
	want = fmt.Sprintf("replayed 20, skipped 20, to topics {%s: 20}", d.source)
	if !strings.Contains(res.stderr, want) {
		t.Fatalf("second filter: stderr %q, want %q", res.stderr, want)
	}
	checkReplayed(t, d, readCommitted(t, brokers, d.source), "1", "user-stats")
}

// TestDLQReplayMaxReplays refuses letters replayed --max-replays times
// already, says how many, and replays the others.
func TestDLQReplayMaxReplays(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	d := writeDeadLetters(t, env, 12)
	// Letters 0-3 were replayed 3 times already, 4-7 twice, 8-11 never.
	for i, r := range d.records[:8] {
		n := 3 - i/4
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: deadletter.HeaderReplayCount, Value: []byte(strconv.Itoa(n))})
	}
	relabelled := &deadLetters{topic: testkit.Unique("user-topic-dlq"), source: d.source}
	testkit.CreateTopic(t, brokers, relabelled.topic, 3, nil)
	for _, r := range d.records {
		relabelled.records = append(relabelled.records, &kgo.Record{Topic: relabelled.topic, Key: r.Key, Value: r.Value, Headers: r.Headers})
	}
	testkit.Produce(t, brokers, relabelled.records)
	target := newTarget(t, brokers, "capped")

	res := mustRun(t, env, "", "dlq", "replay", "--topic", relabelled.topic, "--to", target)
	if !strings.Contains(res.stderr, fmt.Sprintf("replayed 8, skipped 0, to topics {%s: 8}", target)) ||
		!strings.Contains(res.stderr, "refused 4 dead letters replayed 3 times already") {
		t.Fatalf("stderr %q, want 8 replayed and 4 refused", res.stderr)
	}
	got := map[string]string{}
	for _, r := range readCommitted(t, brokers, target) {
		got[headerOf(r, headerTrace)] = headerOf(r, deadletter.HeaderReplayCount)
	}
	want := map[string]string{"4": "3", "5": "3", "6": "3", "7": "3", "8": "1", "9": "1", "10": "1", "11": "1"}
	if !maps.Equal(got, want) {
		t.Errorf("replayed letters (trace id: replay count) %v, want %v", got, want)
	}

	// A higher limit in another group replays the refused ones (and, being a
	// new group, the others again); 0 means no limit.
	res = mustRun(t, env, "", "dlq", "replay", "--topic", relabelled.topic, "--to", target, "--max-replays", "0", "--group", testkit.Unique("again"))
	if !strings.Contains(res.stderr, "replayed 12, skipped 0") || strings.Contains(res.stderr, "refused") {
		t.Errorf("--max-replays 0: %q", res.stderr)
	}
	if res := runCLI(t, env, "", "dlq", "replay", "--topic", relabelled.topic, "--max-replays", "-1"); res.code != ExitUsage {
		t.Errorf("--max-replays -1: exit %d, %q", res.code, res.stderr)
	}
}

func TestDLQReplayDryRun(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	d := writeDeadLetters(t, env, 20)
	target := newTarget(t, brokers, "dry")

	res := mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--to", target, "--dry-run")
	var n int
	for line := range strings.Lines(res.stdout) {
		var p struct {
			Topic       string  `json:"topic"`
			Partition   int32   `json:"partition"`
			Key         *string `json:"key"`
			ValueSize   int     `json:"value_size"`
			ReplayCount int     `json:"replay_count"`
		}
		if err := json.Unmarshal([]byte(line), &p); err != nil {
			t.Fatalf("dry run printed %q: %v", line, err)
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(*p.Key, "user-"))
		if p.Topic != target || p.Partition != int32(i%3) || p.ValueSize != len(d.records[i].Value) || p.ReplayCount != 1 {
			t.Errorf("dry run line %s", line)
		}
		n++
	}
	if n != 20 || !strings.Contains(res.stderr, fmt.Sprintf("would replay 20, skipped 0, to topics {%s: 20}", target)) {
		t.Fatalf("dry run printed %d lines, stderr %q", n, res.stderr)
	}
	for p, o := range endOffsets(t, testkit.Client(t, brokers), target) {
		if o != 0 {
			t.Errorf("dry run published to %s[%d] (end offset %d)", target, p, o)
		}
	}
	// Nothing was committed either: a real replay does all of it.
	res = mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--to", target)
	if !strings.Contains(res.stderr, "replayed 20,") {
		t.Fatalf("replay after a dry run: %q", res.stderr)
	}
}

func TestDLQReplayResumesAfterInterrupt(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	d := writeDeadLetters(t, env, numLetters)
	target := newTarget(t, brokers, "resumed")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan cliResult, 1)
	go func() {
		done <- runCLICtx(ctx, env, strings.NewReader(""), "dlq", "replay", "--topic", d.topic, "--to", target, "--rate", "50")
	}()
	// Interrupt once about half is committed to the target (the LSO counts
	// committed records plus one marker per partition and transaction).
	cl := testkit.Client(t, brokers)
	testkit.Eventually(t, 2*time.Minute, "half of the replay", func() bool {
		var n int64
		for _, o := range endOffsets(t, cl, target) {
			n += o
		}
		return n >= numLetters/2
	})
	cancel()
	first := testkit.Await(t, time.Minute, "the interrupted replay to exit", done)
	if first.code != ExitFailure || !strings.Contains(first.stderr, "interrupted") {
		t.Fatalf("interrupted replay: exit %d, stderr %q", first.code, first.stderr)
	}
	partial := readCommitted(t, brokers, target)
	if len(partial) == 0 || len(partial) >= numLetters {
		t.Fatalf("after the interrupt the target holds %d records; want part of %d", len(partial), numLetters)
	}
	if !strings.Contains(first.stderr, fmt.Sprintf("replayed %d,", len(partial))) {
		t.Errorf("the interrupted replay's summary %q does not count the %d committed records", first.stderr, len(partial))
	}

	second := mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--to", target)
	want := fmt.Sprintf("replayed %d, skipped 0", numLetters-len(partial))
	if !strings.Contains(second.stderr, want) {
		t.Errorf("resumed replay: %q, want %q", second.stderr, want)
	}
	checkReplayed(t, d, readCommitted(t, brokers, target), "1", "user-stats")
}

// A replay killed inside a transaction leaves it open; the next replay
// (same transactional id) fences the dead producer and its records are
// aborted, so readers that read committed never see them.
func TestDLQReplayFencesAKilledReplay(t *testing.T) {
	env := testkit.Env(t)
	brokers := env.Brokers()
	d := writeDeadLetters(t, env, 20)
	target := newTarget(t, brokers, "fenced")

	// The "killed" replay: a transaction begun with the replay's
	// transactional id, records produced, never ended.
	zombie := testkit.Client(t, brokers, kgo.TransactionalID(dlq.DefaultGroup(d.topic)))
	if err := zombie.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	var ghosts []*kgo.Record
	for i := range 5 {
		l := dlq.Parse(d.records[i])
		ghosts = append(ghosts, l.ReplayRecord(target))
	}
	produceCtx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := zombie.ProduceSync(produceCtx, ghosts...).FirstErr(); err != nil {
		t.Fatalf("producing the zombie's records: %v", err)
	}

	mustRun(t, env, "", "dlq", "replay", "--topic", d.topic, "--to", target)
	checkReplayed(t, d, readCommitted(t, brokers, target), "1", "user-stats")
	if err := zombie.EndTransaction(t.Context(), kgo.TryCommit); err == nil {
		t.Errorf("the fenced transaction committed")
	}
	checkReplayed(t, d, readCommitted(t, brokers, target), "1", "user-stats")
}
