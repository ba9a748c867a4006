package pipeline_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
)

// updateLint rewrites testdata/broken/*.want from what Load reports. Read
// every rewritten file before committing it: a golden file only proves
// something when a person has checked its line:col by eye.
var updateLint = flag.Bool("update", false, "rewrite testdata/broken/*.want")

// lintEnv is the environment the broken configs see: SLUICE_TOPIC is set,
// everything else is unset.
func lintEnv(name string) string {
	if name == "SLUICE_TOPIC" {
		return "user-topic"
	}
	return ""
}

// TestLintBroken loads every testdata/broken/NAME.yaml and compares the full
// error text with NAME.want.
func TestLintBroken(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "broken", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 18 {
		t.Fatalf("found %d broken configs, want at least 18", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			cfg, err := pipeline.Load(file, pipeline.WithGetenv(lintEnv))
			if err == nil {
				t.Fatalf("Load accepted a broken config (%d pipelines)", len(cfg.Pipelines))
			}
			var ce config.Errors
			var one *config.Error
			if !errors.As(err, &ce) && !errors.As(err, &one) {
				t.Fatalf("Load returned %T, want config.Errors or *config.Error: %v", err, err)
			}
			got := err.Error() + "\n"
			wantFile := strings.TrimSuffix(file, ".yaml") + ".want"
			if *updateLint {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test ./pipeline -run Lint -update, then check the file by eye)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", wantFile, got, want)
			}
		})
	}
}

// TestLintWantFilesHaveConfigs keeps golden files from outliving their configs.
func TestLintWantFilesHaveConfigs(t *testing.T) {
	wants, err := filepath.Glob(filepath.Join("testdata", "broken", "*.want"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range wants {
		if _, err := os.Stat(strings.TrimSuffix(w, ".want") + ".yaml"); err != nil {
			t.Errorf("%s has no config: %v", w, err)
		}
	}
}

// expandSrc uses ${VAR} and ${VAR:-default}; the schema path is relative to
// the file name given to Parse ("expand.yaml" in this directory).
const expandSrc = `version: 1
kafka:
  brokers: ${BROKERS}
  client_id: ${CLIENT_ID:-sluice-lint}
pipelines:
  - name: big-purchases
    input: {topic: "${IN_TOPIC}", schema: "${SCHEMAS:-../schemas}/user_event.avsc", codec: "${CODEC:-avro}"}
    dead_letter: ${IN_TOPIC}-dlq
    outputs:
      big: {topic: "${OUT_TOPIC:-big-purchases}", codec: json}
    steps:
      - filter: amount >= 100
      - emit: big
`

func TestLintExpandsVariables(t *testing.T) {
	// The process environment must not leak in when WithGetenv is given.
	t.Setenv("IN_TOPIC", "from-the-process-environment")
	env := map[string]string{
		"BROKERS":  "kafka-1:9092, kafka-2:9092",
		"IN_TOPIC": "user-topic-production",
		"CODEC":    "", // set but empty: the default applies
	}
	cfg, err := pipeline.Parse("expand.yaml", []byte(expandSrc), pipeline.WithGetenv(func(k string) string { return env[k] }))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(cfg.Kafka.Brokers, "|"); got != "kafka-1:9092|kafka-2:9092" {
		t.Errorf("brokers = %q", got)
	}
	if cfg.Kafka.ClientID != "sluice-lint" {
		t.Errorf("client_id = %q, want the default sluice-lint", cfg.Kafka.ClientID)
	}
	p := cfg.Pipelines[0]
	if p.Input.Topic != "user-topic-production" || p.DeadLetter != "user-topic-production-dlq" {
		t.Errorf("input %q, dead letter %q", p.Input.Topic, p.DeadLetter)
	}
	if p.Input.Codec != pipeline.CodecAvro || p.Input.SchemaFile != "../schemas/user_event.avsc" || p.Input.Schema == nil {
		t.Errorf("input codec %q schema %q (parsed: %v)", p.Input.Codec, p.Input.SchemaFile, p.Input.Schema != nil)
	}
	if got := p.Outputs["big"].Topic; got != "big-purchases" {
		t.Errorf("output topic = %q, want the default big-purchases", got)
	}
}

// TestLintPositionAfterVariable checks that a column on the same line after a
// ${VAR} that expands to a longer text, and the lines after it, still point
// into the file as written.
func TestLintPositionAfterVariable(t *testing.T) {
	src := strings.Replace(expandSrc, `codec: "${CODEC:-avro}"}`, `codec: "${CODEC:-avro}", compression: zstd}`, 1)
	src = strings.Replace(src, "amount >= 100", "amount >= 100 && county == \"FR\"", 1)
	env := map[string]string{
		"BROKERS":   "kafka-1:9092",
		"IN_TOPIC":  "a-much-longer-topic-name-than-the-variable-reference",
		"OUT_TOPIC": "big purchases",
	}
	_, err := pipeline.Parse("expand.yaml", []byte(src), pipeline.WithGetenv(func(k string) string { return env[k] }))
	if err == nil {
		t.Fatal("Parse accepted an unknown input field, a bad topic name and an unknown name")
	}
	// Lines and columns as a person counts them in src; a problem with an
	// expanded value points at the quote that opens the ${VAR} reference.
	want := "expand.yaml:7:110: unknown field \"compression\"; known fields: codec, message, schema, topic\n" +
		"expand.yaml:10:20: topic \"big purchases\" may only contain letters, digits, '.', '_' and '-'\n" +
		"expand.yaml:12:34: expression \"amount >= 100 && county == \\\"FR\\\"\": unknown name county;" +
		" did you mean \"country\"? known names: amount, country, event_type, key, meta, ts, user_id, value"
	if got := err.Error(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	// The columns above, recomputed from the text so a miscount shows here.
	lines := strings.Split(src, "\n")
	for _, c := range []struct {
		line, col int
		text      string
	}{{7, 110, "compression"}, {10, 20, `"${OUT_TOPIC`}, {12, 34, "county"}} {
		if got := strings.Index(lines[c.line-1], c.text) + 1; got != c.col {
			t.Errorf("%q is at %d:%d in the source, the test says %d", c.text, c.line, got, c.col)
		}
	}
}

// A lookup's table is read with ${VAR} expanded, and the graph and the
// runtime (through Step.Table) see the expanded name.
func TestLintLookupTableExpanded(t *testing.T) {
	src := `version: 1
pipelines:
  - name: user-stats
    input: {topic: user-topic, schema: ../schemas/user_event.avsc}
    dead_letter: user-topic-dlq
    state: {schema: ../schemas/user_stats.avsc}
    steps:
      - aggregate:
          set: {events: state.events + 1}
  - name: big-spenders
    input: {topic: user-topic, schema: ../schemas/user_event.avsc}
    dead_letter: user-topic-dlq
    outputs:
      big: {topic: big-spenders, codec: json}
    steps:
      - lookup:
          table: ${STATS_PIPELINE:-user-stats}
          as: stats
      - filter: stats != nil && stats.total_spent >= 1000.0
      - emit: big
`
	cfg, err := pipeline.Parse("lookup.yaml", []byte(src), pipeline.WithGetenv(func(string) string { return "" }))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Pipelines[1].Steps[0].Table; got != "user-stats" {
		t.Errorf("Step.Table = %q, want user-stats", got)
	}
	out, err := cfg.Diagram(pipeline.FormatDot)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `table_user_stats_table -> group_big_spenders [label="lookup", style=dashed];`) {
		t.Errorf("the graph has no lookup edge:\n%s", out)
	}
}

// TestLoadHeaders reads the headers key: keep by default and as written,
// drop, or a list of names (an empty list keeps none).
func TestLoadHeaders(t *testing.T) {
	for setting, want := range map[string]pipeline.Headers{
		"":                               {},
		"headers: keep":                  {},
		"headers: drop":                  {Drop: true},
		"headers: [traceparent, tenant]": {Only: []string{"traceparent", "tenant"}},
		"headers: []":                    {Only: []string{}},
	} {
		src := strings.Replace(expandSrc, "    dead_letter:", "    "+setting+"\n    dead_letter:", 1)
		cfg, err := pipeline.Parse("expand.yaml", []byte(src), pipeline.WithGetenv(func(k string) string {
			return map[string]string{"BROKERS": "b:9092", "IN_TOPIC": "in"}[k]
		}))
		if err != nil {
			t.Fatalf("%q: %v", setting, err)
		}
		got := cfg.Pipelines[0].Headers
		if got.Drop != want.Drop || strings.Join(got.Only, ",") != strings.Join(want.Only, ",") || (got.Only == nil) != (want.Only == nil) {
			t.Errorf("%q: %+v, want %+v", setting, got, want)
		}
	}
}

// TestLoadDeadLetterForms: dead_letter is a topic name (the breaker keeps its
// defaults) or a mapping with the topic and the breaker's settings, any of
// them, or off.
func TestLoadDeadLetterForms(t *testing.T) {
	cases := []struct {
		deadLetter string
		want       pipeline.Breaker
	}{
		{"user-topic-dlq", pipeline.DefaultBreaker()},
		{"{topic: user-topic-dlq}", pipeline.DefaultBreaker()},
		{"{topic: user-topic-dlq, breaker: on}", pipeline.DefaultBreaker()},
		{"{topic: user-topic-dlq, breaker: off}", pipeline.Breaker{Off: true, Ratio: 0.5, MinMessages: 100, Window: 30 * time.Second}},
		{"{topic: user-topic-dlq, breaker: false}", pipeline.Breaker{Off: true, Ratio: 0.5, MinMessages: 100, Window: 30 * time.Second}},
		{"{topic: user-topic-dlq, breaker: {ratio: 0.9}}", pipeline.Breaker{Ratio: 0.9, MinMessages: 100, Window: 30 * time.Second}},
		{"{topic: user-topic-dlq, breaker: {ratio: 1, min_messages: 20, window: 1m}}", pipeline.Breaker{Ratio: 1, MinMessages: 20, Window: time.Minute}},
	}
	for _, c := range cases {
		src := `version: 1
pipelines:
  - name: p
    input: {topic: user-topic, codec: json}
    dead_letter: ` + c.deadLetter + `
    steps:
      - filter: 'true'
`
		cfg, err := pipeline.Parse("dlq.yaml", []byte(src))
		if err != nil {
			t.Errorf("dead_letter: %s: %v", c.deadLetter, err)
			continue
		}
		p := cfg.Pipelines[0]
		if p.DeadLetter != "user-topic-dlq" || p.Breaker != c.want {
			t.Errorf("dead_letter: %s: topic %q breaker %+v, want user-topic-dlq and %+v", c.deadLetter, p.DeadLetter, p.Breaker, c.want)
		}
	}
}

// TestLoadMetrics: `metrics: {steps: true}` turns the step histograms on;
// anything else is a file:line:col problem.
func TestLoadMetrics(t *testing.T) {
	src := func(metrics string) string {
		return `version: 1
pipelines:
  - name: p
    input: {topic: user-topic, codec: json}
    dead_letter: user-topic-dlq
` + metrics + `    steps:
      - filter: 'true'
`
	}
	for metrics, want := range map[string]bool{"": false, "    metrics: {steps: true}\n": true, "    metrics: {steps: false}\n": false} {
		cfg, err := pipeline.Parse("metrics.yaml", []byte(src(metrics)))
		if err != nil {
			t.Fatalf("%q: %v", metrics, err)
		}
		if got := cfg.Pipelines[0].Metrics.Steps; got != want {
			t.Errorf("%q: Metrics.Steps = %v, want %v", metrics, got, want)
		}
	}
	for metrics, want := range map[string]string{
		"    metrics: {steps: maybe}\n": `metrics.yaml:6:22: expected true or false, got "maybe"`,
		"    metrics: {stepz: true}\n":  `metrics.yaml:6:15: unknown field "stepz"; did you mean "steps"? known fields: steps`,
		"    metrics: [steps]\n":        `metrics.yaml:6:14: metrics is a mapping {steps: true|false}`,
	} {
		_, err := pipeline.Parse("metrics.yaml", []byte(src(metrics)))
		if err == nil || err.Error() != want {
			t.Errorf("%q: error %v, want %s", metrics, err, want)
		}
	}
}
