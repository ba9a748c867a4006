package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"hash/crc32"
	"hash/fnv"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/partition"
	"github.com/sluicehq/sluice/internal/render"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry/regclient"
)

const (
	userEventSchema   = "../../schemas/user_event.avsc"
	userEventV1Schema = "../../testdata/schemas/user_event_v1.avsc"
	// safety bounds a consume in a test: it normally ends on --max.
	safety = "--timeout=60s"
	// cliTimeout bounds one CLI invocation in a test.
	cliTimeout = 2 * time.Minute
)

// cliResult is the outcome of one CLI invocation.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI with the services of env in its environment, and
// fails the test if it has not exited within cliTimeout.
func runCLI(t *testing.T, env *devenv.Env, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel() // stops a command that overran
	done := make(chan cliResult, 1)
	go func() { done <- runCLICtx(ctx, env, strings.NewReader(stdin), args...) }()
	return testkit.Await(t, cliTimeout, "sluice "+strings.Join(args, " ")+" to exit", done)
}

func runCLICtx(ctx context.Context, env *devenv.Env, stdin io.Reader, args ...string) cliResult {
	var stdout, stderr bytes.Buffer
	code := runWithEnv(ctx, args, stdin, &stdout, &stderr, envOf(env))
	return cliResult{code, stdout.String(), stderr.String()}
}

func envOf(env *devenv.Env) func(string) string {
	return func(name string) string {
		switch {
		case env == nil:
			return ""
		case name == envBrokers:
			return strings.Join(env.Brokers(), ",")
		case name == envRegistryURL:
			return env.RegistryURL()
		}
		return securityEnv(testkit.Kafka(env.Brokers()), name)
	}
}

func mustRun(t *testing.T, env *devenv.Env, stdin string, args ...string) cliResult {
	t.Helper()
	res := runCLI(t, env, stdin, args...)
	if res.code != ExitOK {
		t.Fatalf("sluice %s: exit %d\nstderr: %s", strings.Join(args, " "), res.code, res.stderr)
	}
	return res
}

// parseRecords parses the JSON lines of consume or dlq inspect
// (TestConsumeJSONLines and dlq's TestJSONWriter pin their bytes).
func parseRecords(t *testing.T, out string) []render.Record {
	t.Helper()
	var recs []render.Record
	for line := range strings.Lines(out) {
		var c render.Record
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("printed a non-JSON line %q: %v", line, err)
		}
		recs = append(recs, c)
	}
	return recs
}

// consumeAll reads n records of topic from the beginning through the CLI.
func consumeAll(t *testing.T, env *devenv.Env, topic string, n int, extra ...string) []render.Record {
	t.Helper()
	args := append([]string{"consume", "--topic", topic, "--from-beginning",
		"--max", strconv.Itoa(n), safety}, extra...)
	recs := parseRecords(t, mustRun(t, env, "", args...).stdout)
	if len(recs) != n {
		t.Fatalf("consume printed %d records, want %d", len(recs), n)
	}
	return recs
}

func jsonEqual(t *testing.T, got json.RawMessage, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("value %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("value = %s, want %s", gb, wb)
	}
}

const userEventsIn = `{"user_id":"user-1","event_type":"signup","amount":0,"ts":1700000000000}
{"user_id":"user-2","event_type":"purchase","amount":12.5,"ts":1700000001000,"country":"DE"}

{"user_id":"user-1","event_type":"login","amount":0,"ts":"2023-11-14T22:13:22Z"}
`

// wantUserEvents are the decoded values of userEventsIn by ts.
var wantUserEvents = map[int64]string{
	1700000000000: `{"user_id":"user-1","event_type":"signup","amount":0,"ts":1700000000000,"country":null}`,
	1700000001000: `{"user_id":"user-2","event_type":"purchase","amount":12.5,"ts":1700000001000,"country":"DE"}`,
	1700000002000: `{"user_id":"user-1","event_type":"login","amount":0,"ts":1700000002000,"country":null}`,
}

func TestProduceConsumeAvroRoundTrip(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("user-topic")
	testkit.CreateTopic(t, env.Brokers(), topic, 3, nil)
	res := mustRun(t, env, userEventsIn,
		"produce", "--topic", topic, "--schema", userEventSchema, "--key-field", "user_id")
	if !strings.Contains(res.stderr, "produced 3 records to "+topic) {
		t.Fatalf("produce summary = %q", res.stderr)
	}

	recs := consumeAll(t, env, topic, 3)
	seen := map[int64]bool{}
	for _, r := range recs {
		var v struct {
			UserID string `json:"user_id"`
			TS     int64  `json:"ts"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("value %s: %v", r.Value, err)
		}
		want, ok := wantUserEvents[v.TS]
		if !ok || seen[v.TS] {
			t.Fatalf("unexpected or repeated record %s", r.Value)
		}
		seen[v.TS] = true
		jsonEqual(t, r.Value, want)
		if !strings.HasPrefix(string(r.Value), `{"user_id":`) {
			t.Errorf("fields not in schema order: %s", r.Value)
		}
		if r.Key == nil || *r.Key != v.UserID {
			t.Errorf("key = %v, want %q", r.Key, v.UserID)
		}
		if r.Topic != topic || r.Timestamp <= 0 || r.Headers == nil || r.Error != "" {
			t.Errorf("record metadata %+v", r)
		}
	}

	// The values are Confluent frames carrying the id registered under <topic>-value.
	reg, err := regclient.New(regclient.Config{URL: env.RegistryURL()})
	if err != nil {
		t.Fatal(err)
	}
	latest, err := reg.SchemaByVersion(t.Context(), topic+"-value", regclient.Latest)
	if err != nil {
		t.Fatalf("subject %s-value: %v", topic, err)
	}
	for _, r := range consumeAll(t, env, topic, 3, "--codec", "bytes") {
		frame := decodeB64(t, r.ValueBase64)
		if id, ok := codecs.FrameSchemaID(frame); !ok || id != latest.ID {
			t.Errorf("frame schema id = %d, %v; want %d", id, ok, latest.ID)
		}
	}
}

func TestProduceV1ConsumeWithWriterOrReaderSchema(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("user-topic")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	mustRun(t, env, `{"user_id":"u9","event_type":"login","amount":1.5,"ts":1700000000000}`+"\n",
		"produce", "--topic", topic, "--schema", userEventV1Schema, "--key", "u9")

	// Without a schema the writer (v1) schema decodes it: no country field.
	r := consumeAll(t, env, topic, 1)[0]
	jsonEqual(t, r.Value, `{"user_id":"u9","event_type":"login","amount":1.5,"ts":1700000000000}`)
	// With the v2 reader schema the missing field takes its default.
	r = consumeAll(t, env, topic, 1, "--schema", userEventSchema)[0]
	jsonEqual(t, r.Value, `{"user_id":"u9","event_type":"login","amount":1.5,"ts":1700000000000,"country":null}`)
}

func TestProduceJSONAndStringCodecs(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("codecs")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil) // one partition: records come back in order
	mustRun(t, env, `{"a":1,"user":{"id":7}}`+"\n"+`  [1, 2]  `+"\n",
		"produce", "--topic", topic, "--codec", "json", "--key", "fixed")
	mustRun(t, env, "hello world\n{not json\n\n",
		"produce", "--topic", topic, "--codec", "string")
	mustRun(t, env, `{"a":2,"user":{"id":8}}`+"\n",
		"produce", "--topic", topic, "--key-field", "user.id") // json is the default codec

	recs := consumeAll(t, env, topic, 6)
	jsonEqual(t, recs[0].Value, `{"a":1,"user":{"id":7}}`)
	jsonEqual(t, recs[1].Value, `[1,2]`)
	jsonEqual(t, recs[2].Value, `"hello world"`)
	jsonEqual(t, recs[3].Value, `"{not json"`)
	jsonEqual(t, recs[4].Value, `""`) // --codec string keeps blank lines
	jsonEqual(t, recs[5].Value, `{"a":2,"user":{"id":8}}`)
	for i, want := range []any{"fixed", "fixed", nil, nil, nil, "8"} {
		switch got := recs[i].Key; {
		case want == nil && got != nil, want != nil && (got == nil || *got != want):
			t.Errorf("record %d key = %v, want %v", i, got, want)
		}
	}
	// --codec json writes the line as is.
	raw := consumeAll(t, env, topic, 2, "--codec", "bytes")
	if got := string(decodeB64(t, raw[1].ValueBase64)); got != `  [1, 2]  ` {
		t.Errorf("json line stored as %q", got)
	}
}

func TestProduceBadLineStopsThere(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("bad-line")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	in := `{"user_id":"a","event_type":"login","amount":1,"ts":1}
{"user_id":"b","event_type":"login","amount":"lots","ts":2}
{"user_id":"c","event_type":"login","amount":3,"ts":3}
`
	res := runCLI(t, env, in, "produce", "--topic", topic, "--schema", userEventSchema, "--key-field", "user_id")
	if res.code != ExitFailure {
		t.Fatalf("exit %d, want 1; stderr %s", res.code, res.stderr)
	}
	for _, want := range []string{"line 2", "amount", "produced 1 records to " + topic, "1 records produced before the error"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr %q does not mention %q", res.stderr, want)
		}
	}
	for name, c := range map[string]struct{ in, want string }{
		"invalid json":      {"{\"user_id\":\"x\"\n", "line 1: invalid JSON"},
		"trailing data":     {"{} {}\n", "line 1: invalid JSON"},
		"missing key field": {"{\"event_type\":\"x\"}\n", "line 1: key field user_id: missing"},
	} {
		res := runCLI(t, env, c.in, "produce", "--topic", topic, "--codec", "json", "--key-field", "user_id")
		if res.code != ExitFailure || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want 1 and %q", name, res.code, res.stderr, c.want)
		}
	}

	// Only line 1 was produced: the next record follows it directly.
	mustRun(t, env, `{"user_id":"z","event_type":"login","amount":9,"ts":9}`+"\n",
		"produce", "--topic", topic, "--schema", userEventSchema)
	recs := consumeAll(t, env, topic, 2)
	if !strings.Contains(string(recs[0].Value), `"a"`) || !strings.Contains(string(recs[1].Value), `"z"`) {
		t.Fatalf("topic holds %s, %s; want records a then z", recs[0].Value, recs[1].Value)
	}
}

func TestProduceInterrupted(t *testing.T) {
	env := testkit.Env(t)
	pr, pw := io.Pipe()
	defer pw.Close()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan cliResult, 1)
	topic := testkit.Unique("interrupted")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	go func() {
		done <- runCLICtx(ctx, env, pr, "produce", "--topic", topic)
	}()
	if _, err := pw.Write([]byte("{\"n\":1}\n")); err != nil { // read by produce
		t.Fatal(err)
	}
	cancel() // SIGINT while produce waits for the next line
	res := testkit.Await(t, time.Minute, "the interrupted produce to exit", done)
	if res.code != ExitFailure || !strings.Contains(res.stderr, "interrupted") {
		t.Fatalf("exit %d, stderr %q; want 1 and interrupted", res.code, res.stderr)
	}
}

func TestProduceFailsFastWithoutTopicOrBroker(t *testing.T) {
	// A broker that does not create topics on demand, like scripts/kafka.sh.
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	brokers := cluster.ListenAddrs()[0]
	res := runCLI(t, nil, "{}\n", "produce", "--topic", "missing", "--brokers", brokers)
	if res.code != ExitFailure || !strings.Contains(res.stderr, "topic missing does not exist") {
		t.Errorf("produce to a missing topic: exit %d, stderr %q", res.code, res.stderr)
	}
	cluster.Close() // now nothing listens there
	res = runCLI(t, nil, "{}\n", "produce", "--topic", "t", "--brokers", brokers)
	if res.code != ExitFailure || !strings.Contains(res.stderr, "connecting to Kafka ("+brokers+" over PLAINTEXT): ") {
		t.Errorf("produce to a dead broker: exit %d, stderr %q", res.code, res.stderr)
	}
}

func TestProduceFailsFastWithoutRegistry(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("no-registry")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	res := runCLI(t, env, userEventsIn, "produce", "--topic", topic, "--schema", userEventSchema,
		"--registry", "http://127.0.0.1:1")
	if res.code != ExitFailure || !strings.Contains(res.stderr, "schema registry") ||
		strings.Contains(res.stderr, "line ") {
		t.Fatalf("exit %d, stderr %q; want 1 and a registry error not blamed on a line", res.code, res.stderr)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"produce"},
		{"produce", "--topic", "t", "--codec", "xml"},
		{"produce", "--topic", "t", "--codec", "avro"},
		{"produce", "--topic", "t", "--schema", userEventSchema, "--codec", "json"},
		{"produce", "--topic", "t", "--key", "k", "--key-field", "f"},
		{"produce", "--topic", "t", "--codec", "string", "--key-field", "f"},
		{"produce", "--topic", "t", "--partitioner", "random"},
		{"produce", "--topic", "t", "--schema", "does-not-exist.avsc"},
		{"produce", "--topic", "t", "--brokers", " , "},
		{"produce", "--topic", "t", "extra-arg"},
		{"produce", "--topic", "t", "--header", "novalue"},
		{"produce", "--topic", "t", "--header", "=v"},
		{"produce", "--topic", "t", "--trace", "--header", "traceparent=00-x"},
		{"produce", "--topic", "t", "--tombstone", "--key", "k"},
		{"produce", "--topic", "t", "--tombstone", "--key-field", "id"},
		{"produce", "--topic", "t", "--tombstone", "--schema", userEventSchema},
		{"produce", "--topic", "t", "--tombstone", "--codec", "string"},
		{"produce", "--topic", "t", "--partition", "-2"},
		{"produce", "--topic", "t", "--file", "no-such-pipelines.yaml"},
		{"produce", "--no-such-flag"},
		{"consume"},
		{"consume", "--topic", "t", "--max", "-1"},
		{"consume", "--topic", "t", "--timeout", "-1s"},
		{"consume", "--topic", "t", "--timeout", "soon"},
		{"consume", "--topic", "t", "--codec", "xml"},
		{"consume", "--topic", "t", "--codec", "string", "--schema", userEventSchema},
		{"consume", "--topic", "t", "--offset", "soon"},
		{"consume", "--topic", "t", "--offset", "1", "--from-beginning"},
		{"consume", "--topic", "t", "--offset", "1", "--from-time", "10m"},
		{"consume", "--topic", "t", "--from-time", "yesterday"},
		{"consume", "--topic", "t", "--until-end", "--group", "g"},
	} {
		res := runCLICtx(t.Context(), nil, strings.NewReader(""), args...)
		if res.code != ExitUsage {
			t.Errorf("sluice %s: exit %d, want 2 (stderr %q)", strings.Join(args, " "), res.code, res.stderr)
		}
	}
}

// javaPartition is the Java client's partition for a keyed record:
// Utils.toPositive(Utils.murmur2(key)) % n.
func javaPartition(key string, n int) int {
	return int(partition.Murmur2([]byte(key))&0x7fffffff) % n
}

func TestProducePartitioners(t *testing.T) {
	env := testkit.Env(t)
	const parts = 8
	keys := []string{"user-1", "user-2", "user-42", "21", "foobar", "abc", "a-little-bit-long-string"}
	for _, c := range []struct {
		name string
		want func(key string) int
	}{
		{partition.Murmur2Name, func(k string) int { return javaPartition(k, parts) }},
		{partition.FNV1aName, func(k string) int { // sarama's hash partitioner with fnv-1a
			h := fnv.New32a()
			h.Write([]byte(k))
			p := int32(h.Sum32()) % parts
			if p < 0 {
				p = -p
			}
			return int(p)
		}},
		{partition.CRC32Name, func(k string) int { return int(crc32.ChecksumIEEE([]byte(k)) % parts) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			topic := testkit.Unique("parts-" + c.name)
			testkit.CreateTopic(t, env.Brokers(), topic, parts, nil)
			var in strings.Builder
			for _, k := range keys {
				in.WriteString(`{"id":"` + k + `"}` + "\n")
			}
			args := []string{"produce", "--topic", topic, "--key-field", "id"}
			if c.name != partition.Murmur2Name { // murmur2 is the default
				args = append(args, "--partitioner", c.name)
			}
			mustRun(t, env, in.String(), args...)
			got := map[string]int{}
			for _, r := range consumeAll(t, env, topic, len(keys)) {
				got[*r.Key] = int(r.Partition)
			}
			distinct := map[int]bool{}
			for _, k := range keys {
				if want := c.want(k); got[k] != want {
					t.Errorf("key %q on partition %d, want %d", k, got[k], want)
				}
				distinct[got[k]] = true
			}
			if len(distinct) < 2 {
				t.Errorf("all keys on one partition: %v", got)
			}
		})
	}
	if p := javaPartition("user-1", parts); p != 4 { // murmur2("user-1") = 1404122828
		// Pinned so a change in the hash is visible even if both sides moved.
		t.Errorf("Java partition of user-1 over %d partitions = %d, want 4", parts, p)
	}
}

func decodeB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("value_base64 %q: %v", s, err)
	}
	return b
}
