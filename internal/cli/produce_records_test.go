package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/partition"
	"github.com/sluicehq/sluice/internal/testkit"
)

func TestProduceHeadersAndTrace(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("headers")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	res := mustRun(t, env, "{\"n\":1}\n{\"n\":2}\n", "produce", "--topic", topic,
		"--header", "source=cli", "--header", "note=a=b", "--header", "empty=", "--trace")
	m := regexp.MustCompile(`(?m)^trace ([0-9a-f]{32})$`).FindStringSubmatch(res.stderr)
	if m == nil {
		t.Fatalf("stderr %q does not print the trace id", res.stderr)
	}
	traceparent := regexp.MustCompile(`^00-` + m[1] + `-([0-9a-f]{16})-01$`)
	spans := map[string]bool{}
	for _, r := range consumeAll(t, env, topic, 2) {
		if r.Headers["source"] != "cli" || r.Headers["note"] != "a=b" || r.Headers["empty"] != "" {
			t.Errorf("record %d headers %v", r.Offset, r.Headers)
		}
		span := traceparent.FindStringSubmatch(r.Headers[traceparentHeader])
		if span == nil {
			t.Fatalf("record %d traceparent %q, want trace %s", r.Offset, r.Headers[traceparentHeader], m[1])
		}
		spans[span[1]] = true
	}
	if len(spans) != 2 {
		t.Errorf("span ids %v, want one per record", spans)
	}
}

func TestProduceTombstones(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("tombstones")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	res := mustRun(t, env, "user-1\n\nuser 2\n", "produce", "--topic", topic, "--tombstone")
	if !strings.Contains(res.stderr, "produced 2 records") {
		t.Fatalf("stderr %q", res.stderr)
	}
	recs := consumeAll(t, env, topic, 2, "--codec", "bytes")
	for i, key := range []string{"user-1", "user 2"} {
		r := recs[i]
		if r.Key == nil || *r.Key != key || string(r.Value) != "null" || r.ValueBase64 != "" {
			t.Errorf("record %d: key %v value %s %q, want key %q and a null value", i, r.Key, r.Value, r.ValueBase64, key)
		}
	}
}

func TestProducePartitionFlag(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("partition")
	testkit.CreateTopic(t, env.Brokers(), topic, 3, nil)
	mustRun(t, env, "a\nb\nc\n", "produce", "--topic", topic, "--codec", "string", "--key", "k", "--partition", "2")
	for _, r := range consumeAll(t, env, topic, 3) {
		if r.Partition != 2 {
			t.Errorf("record %s on partition %d, want 2", r.Value, r.Partition)
		}
	}
	res := runCLI(t, env, "a\n", "produce", "--topic", topic, "--codec", "string", "--partition", "3")
	if res.code != ExitFailure || !strings.Contains(res.stderr, "producing to "+topic+"[3]") {
		t.Errorf("--partition past the topic's: exit %d, stderr %q", res.code, res.stderr)
	}
}

// minimalPipelines is a valid pipelines file with the given partitioner.
func minimalPipelines(t *testing.T, dir, partitioner string) string {
	t.Helper()
	path := filepath.Join(dir, "pipelines.yaml")
	body := `version: 1
kafka:
  brokers: 127.0.0.1:9092
  partitioner: ` + partitioner + `
pipelines:
  - name: p
    group: p
    input: {topic: in, codec: json}
    dead_letter: in-dlq
    outputs:
      out: {topic: out, codec: json}
    steps:
      - filter: "true"
`
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProducePartitionerFromPipelinesFile(t *testing.T) {
	env := testkit.Env(t)
	const parts = 8
	keys := []string{"user-1", "user-2", "user-42", "foobar", "abc"}
	var in strings.Builder
	for _, k := range keys {
		in.WriteString(k + "\n")
	}
	placed := func(args ...string) map[string]int {
		t.Helper()
		topic := testkit.Unique("yaml-parts")
		testkit.CreateTopic(t, env.Brokers(), topic, parts, nil)
		mustRun(t, env, in.String(), append([]string{"produce", "--topic", topic, "--tombstone"}, args...)...)
		got := map[string]int{}
		for _, r := range consumeAll(t, env, topic, len(keys)) {
			got[*r.Key] = int(r.Partition)
		}
		return got
	}
	check := func(what, name string, got map[string]int) {
		t.Helper()
		hash, err := partition.KeyHasher(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if want := hash([]byte(k), parts); got[k] != want {
				t.Errorf("%s: key %q on partition %d, want %d (%s)", what, k, got[k], want, name)
			}
		}
	}

	check("--file", partition.FNV1aName, placed("--file", minimalPipelines(t, t.TempDir(), partition.FNV1aName)))
	// The default pipelines.yaml of the working directory, when there is one.
	t.Chdir(t.TempDir())
	minimalPipelines(t, ".", partition.CRC32Name)
	check("./pipelines.yaml", partition.CRC32Name, placed())
	check("--partitioner wins", partition.Murmur2Name, placed("--partitioner", partition.Murmur2Name))
	// A default file that does not load is only a warning.
	if err := os.WriteFile("pipelines.yaml", []byte("version: 1\nkafka: {partitioner: nope}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	topic := testkit.Unique("yaml-broken")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	res := mustRun(t, env, "k\n", "produce", "--topic", topic, "--tombstone")
	if !strings.Contains(res.stderr, "warning: not taking kafka.partitioner from pipelines.yaml") {
		t.Errorf("stderr %q", res.stderr)
	}
}

func TestProduceRefusesUnknownAvroField(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("typo")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	in := `{"user_id":"a","event_type":"login","amount":1,"ts":1,"country":"DE"}
{"user_id":"b","event_type":"login","amount":2,"ts":2,"countyr":"FR"}
`
	res := runCLI(t, env, in, "produce", "--topic", topic, "--schema", userEventSchema)
	if res.code != ExitFailure {
		t.Fatalf("exit %d, want 1; stderr %s", res.code, res.stderr)
	}
	for _, want := range []string{"line 2: ", "field countyr: not in record", "1 records produced before the error"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr %q does not mention %q", res.stderr, want)
		}
	}
}

func TestProduceWarnsPlainValuesOnAvroSubject(t *testing.T) {
	env := testkit.Env(t)
	avroTopic := testkit.Unique("avro-subject")
	plainTopic := testkit.Unique("no-subject")
	testkit.CreateTopic(t, env.Brokers(), avroTopic, 1, nil)
	testkit.CreateTopic(t, env.Brokers(), plainTopic, 1, nil)
	mustRun(t, env, `{"user_id":"a","event_type":"login","amount":1,"ts":1}`+"\n",
		"produce", "--topic", avroTopic, "--schema", userEventSchema)

	const warning = "holds an Avro schema"
	for _, codec := range []string{codecJSON, codecString} {
		res := mustRun(t, env, `{"user_id":"b"}`+"\n", "produce", "--topic", avroTopic, "--codec", codec)
		if !strings.Contains(res.stderr, "warning: subject "+avroTopic+"-value "+warning) ||
			!strings.Contains(res.stderr, "plain "+codec) {
			t.Errorf("--codec %s to an Avro subject: stderr %q", codec, res.stderr)
		}
	}
	for _, args := range [][]string{
		{"produce", "--topic", plainTopic},
		{"produce", "--topic", avroTopic, "--schema", userEventSchema},
		{"produce", "--topic", avroTopic, "--tombstone"},
	} {
		in := `{"user_id":"c","event_type":"login","amount":1,"ts":1}` + "\n"
		if res := mustRun(t, env, in, args...); strings.Contains(res.stderr, warning) {
			t.Errorf("sluice %s warned: %q", strings.Join(args, " "), res.stderr)
		}
	}
}
