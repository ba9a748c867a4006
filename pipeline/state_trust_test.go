package pipeline_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// counterPipelines writes a pipelines file with a stateful JSON pipeline
// <name> counting messages per key with state schema stateSchema (and the
// aggregate's set), and a pipeline <name>-look that looks each key up in
// <name>'s table and emits what it found.
func counterPipelines(t *testing.T, env *devenv.Env, name, stateSchema, set string) *pipeline.Config {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "state.avsc"), []byte(stateSchema), 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %[2]s
  partitions: 1
  heartbeat: 100ms
  session_timeout: 6s
registry:
  url: %[3]s
pipelines:
  - name: %[1]s
    group: %[1]s
    input: {topic: %[1]s-in, codec: json}
    dead_letter: %[1]s-dlq
    state:
      schema: state.avsc
    outputs:
      out: {topic: %[1]s-out, codec: json}
    steps:
      - aggregate:
          init: {n: 0}
          set: {%[4]s}
      - emit: out
  - name: %[1]s-look
    group: %[1]s-look
    input: {topic: %[1]s-look-in, codec: json}
    dead_letter: %[1]s-look-dlq
    outputs:
      out: {topic: %[1]s-look-out, codec: json}
    steps:
      - lookup: {table: %[1]s, as: found}
      - map: {fields: {n: found.n}}
      - emit: out
`, name, strings.Join(env.Brokers(), ","), env.RegistryURL(), set)
	file := filepath.Join(dir, "pipelines.yaml")
	cfg, err := pipeline.Parse(file, []byte(testkit.SecureConfig(src)), pipeline.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatalf("loading %s: %v\n%s", file, err, src)
	}
	return cfg
}

const (
	counterV1 = `{"type": "record", "name": "Counter", "namespace": "test", "fields": [{"name": "n", "type": "long"}]}`
	counterV2 = `{"type": "record", "name": "Counter", "namespace": "test", "fields": [{"name": "n", "type": "long"},
		{"name": "tag", "type": "string", "default": "none"}]}`
	counterV3 = `{"type": "record", "name": "Counter", "namespace": "test", "fields": [{"name": "n", "type": "long"},
		{"name": "tag", "type": "string", "default": "none"}, {"name": "limit", "type": "long"}]}`
)

func produceKeys(t *testing.T, env *devenv.Env, topic string, keys ...string) {
	t.Helper()
	recs := make([]*kgo.Record, len(keys))
	for i, k := range keys {
		recs[i] = &kgo.Record{Topic: topic, Key: []byte(k), Value: []byte(`{"k": "` + k + `"}`)}
	}
	testkit.Produce(t, env.Brokers(), recs)
}

// TestStateSchemaEvolution: the state schema is registered under
// <group>-state-value; a new field with a default reads old entries with the
// default and new ones carry it; a new field without one is refused by
// validate --registry (CheckRegistry) and by run, naming the field, before
// anything is consumed.
func TestStateSchemaEvolution(t *testing.T) {
	env := testkit.Env(t)
	name := testkit.Unique("evolve")
	testkit.CreateTopic(t, env.Brokers(), name+"-in", 1, nil)
	testkit.CreateTopic(t, env.Brokers(), name+"-look-in", 1, nil)
	only := pipeline.Options{Only: []string{name}}

	cfg := counterPipelines(t, env, name, counterV1, "n: state.n + 1")
	produceKeys(t, env, name+"-in", "a", "b", "a")
	rt, stop := startRuntime(t, cfg, only)
	waitConsumed(t, rt, name, 3, time.Minute)
	stop()
	reg := registryClient(t, env.RegistryURL())
	versions, err := reg.Versions(t.Context(), pipeline.StateSubject(name))
	if err != nil || len(versions) != 1 {
		t.Fatalf("versions of %s: %v, %v; want one", pipeline.StateSubject(name), versions, err)
	}

	// v2: tag with a default.
	cfg = counterPipelines(t, env, name, counterV2, `n: state.n + 1, tag: '"seen"'`)
	if problems, err := pipeline.CheckRegistry(t.Context(), cfg, ""); err != nil || len(problems) != 0 {
		t.Fatalf("CheckRegistry with a new field with a default: %v, %v", problems, err)
	}
	produceKeys(t, env, name+"-in", "a")
	rt, stop = startRuntime(t, cfg, only)
	waitConsumed(t, rt, name, 1, time.Minute)
	for key, want := range map[string]string{"a": `{"n":3,"tag":"seen"}`, "b": `{"n":1,"tag":"none"}`} {
		got, err := rt.State(name, key)
		if err != nil {
			t.Fatalf("state of %s: %v", key, err)
		}
		if b, _ := json.Marshal(got); string(b) != want {
			t.Errorf("state of %s under v2: %s, want %s", key, b, want)
		}
	}
	stop()

	// v3: limit without a default.
	cfg = counterPipelines(t, env, name, counterV3, `n: state.n + 1, tag: '"seen"', limit: 10`)
	problems, err := pipeline.CheckRegistry(t.Context(), cfg, "")
	if err != nil || len(problems) != 2 {
		t.Errorf("CheckRegistry with a new field without a default: %q, %v; want a problem for each registered version", problems, err)
	}
	for _, p := range problems {
		if !strings.Contains(p, `"limit"`) || !strings.Contains(p, "no default") || !strings.Contains(p, "pipelines.yaml:") {
			t.Errorf("problem %q does not name the file, the field and why", p)
		}
	}
	produceKeys(t, env, name+"-in", "a")
	rt, err = pipeline.New(cfg, pipeline.Options{Only: []string{name}, Logger: (&testkit.LogBuffer{}).Logger()})
	if err != nil {
		t.Fatal(err)
	}
	err = rt.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), `"limit"`) || !strings.Contains(err.Error(), pipeline.StateSubject(name)) {
		t.Errorf("run with a new field without a default: %v; want an error naming the field and the subject", err)
	}
	if c, _ := rt.Counts(name); c.Consumed != 0 {
		t.Errorf("consumed %d messages with an incompatible state schema, want none", c.Consumed)
	}
}

// TestBadTableValues: a table value that cannot be read dead-letters the
// message that reads it, at stage state in its own pipeline and at stage
// lookup in one that looks it up, and the pipelines go on with other keys.
func TestBadTableValues(t *testing.T) {
	env := testkit.Env(t)
	name := testkit.Unique("corrupt")
	testkit.CreateTopic(t, env.Brokers(), name+"-in", 1, nil)
	testkit.CreateTopic(t, env.Brokers(), name+"-look-in", 1, nil)
	cfg := counterPipelines(t, env, name, counterV1, "n: state.n + 1")

	produceKeys(t, env, name+"-in", "good", "bad")
	rt, stop := startRuntime(t, cfg, pipeline.Options{Only: []string{name}})
	waitConsumed(t, rt, name, 2, time.Minute)
	stop()
	// Corrupt values of key bad, as a bug or a hand-made write could leave
	// them: the wire format with garbage, an unknown schema id, no frame.
	table := name + "-table"
	for i, v := range [][]byte{{0, 0x80, 0, 0, 1, 0xff, 0xff}, {0, 0, 0, 0x7f, 0x42, 2, 4}, []byte("garbage")} {
		testkit.Produce(t, env.Brokers(), []*kgo.Record{{Topic: table, Key: []byte("bad"), Value: v}})
		produceKeys(t, env, name+"-in", "bad", "good")
		produceKeys(t, env, name+"-look-in", "bad", "good")
		rt, stop = startRuntime(t, cfg, pipeline.Options{})
		c := waitConsumed(t, rt, name, 2, time.Minute)
		lc := waitConsumed(t, rt, name+"-look", 2, time.Minute)
		stop()
		if c.DeadLettered != 1 || c.Processed != 1 || lc.DeadLettered != 1 || lc.Processed != 1 {
			t.Errorf("value %d: counts %+v and %+v; want one dead letter and one processed each", i, c, lc)
		}
		for _, tc := range []struct{ dlq, stage string }{{name + "-dlq", "state"}, {name + "-look-dlq", "lookup"}} {
			recs := testkit.ReadAll(t, env.Brokers(), tc.dlq, i+1, time.Minute)
			r := recs[len(recs)-1]
			stage, _ := testkit.Header(r, "sluice.error.stage")
			msg, _ := testkit.Header(r, "sluice.error.message")
			if string(r.Key) != "bad" || stage != tc.stage || !strings.Contains(msg, "table entry") {
				t.Errorf("value %d: dead letter in %s: key %s, stage %s, message %q; want key bad, stage %s, a message about the table entry", i, tc.dlq, r.Key, stage, msg, tc.stage)
			}
		}
	}
	out := testkit.ReadAll(t, env.Brokers(), name+"-out", 5, time.Minute)
	if last := out[len(out)-1]; string(last.Key) != "good" || string(last.Value) != `{"n":4}` {
		t.Errorf("last output %s=%s, want good={\"n\":4}", last.Key, last.Value)
	}
}
