package pipetest_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/pipetest"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// reference loads the reference pipelines, which the test files test.
func reference(t *testing.T) *pipetest.Runner {
	t.Helper()
	schemas := codecs.NewSchemas()
	cfg, err := pipeline.Load("../../pipelines.yaml", pipeline.WithSchemas(schemas), pipeline.WithGetenv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	return &pipetest.Runner{Config: cfg, Schemas: schemas}
}

func load(t *testing.T, r *pipetest.Runner, path string) *pipetest.File {
	t.Helper()
	f, err := pipetest.Load(path, r.Config, r.Schemas, noEnv)
	if err != nil {
		t.Fatalf("loading %s: %v", path, err)
	}
	return f
}

// Every expectation kind, met: each case passes and the report says ok.
func TestPassingSuite(t *testing.T) {
	r := reference(t)
	var out bytes.Buffer
	results := r.RunFile(load(t, r, "testdata/pass_test.yaml"), &out)
	if len(results) != 3 {
		t.Fatalf("%d results, want 3", len(results))
	}
	for _, res := range results {
		if len(res.Failures) > 0 {
			t.Errorf("%s failed: %+v", res.Case.Name, res.Failures)
		}
	}
	if want := "ok\ttestdata/pass_test.yaml\t3 tests\n"; out.String() != want {
		t.Errorf("report %q, want %q", out.String(), want)
	}
}

// Every expectation kind, missed: the report (testdata/fail.golden) names
// each expectation at its line and column with a diff, and the case that
// passes is not in it.
func TestFailingSuite(t *testing.T) {
	r := reference(t)
	var out bytes.Buffer
	results := r.RunFile(load(t, r, "testdata/fail_test.yaml"), &out)
	failed := 0
	for _, res := range results {
		if len(res.Failures) > 0 {
			failed++
		}
	}
	if len(results) != 4 || failed != 3 {
		t.Errorf("%d results, %d failed; want 4 and 3", len(results), failed)
	}
	golden(t, "testdata/fail.golden", out.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("report differs from %s (go test -update rewrites it):\n%s", path, got)
	}
}

// A bad test file is refused with every problem at its line and column.
func TestBadFiles(t *testing.T) {
	r := reference(t)
	for file, want := range map[string]string{
		"unknown_key": `testdata/bad/unknown_key_test.yaml:5:9: missing required field "value" (or raw: bytes sent as they are)
testdata/bad/unknown_key_test.yaml:6:9: unknown field "vlaue"; did you mean "value"? known fields: headers, key, raw, schema, timestamp, topic, value
testdata/bad/unknown_key_test.yaml:8:7: unknown field "outptus"; did you mean "outputs"? known fields: dead_letters, outputs, state`,
		"unknown_pipeline": `testdata/bad/unknown_pipeline_test.yaml:3:15: no pipeline named "user-statz" in ../../pipelines.yaml (pipelines: user-stats, big-purchases, user-purchases-5m)`,
		"schema": `testdata/bad/schema_test.yaml:6:16: the value does not fit the writer schema: coercing to com.example.events.UserEvent: field amount: string (lots) where number expected
testdata/bad/schema_test.yaml:8:16: the value does not fit the writer schema: coercing to com.example.events.UserEvent: field countyr: not in record com.example.events.UserEvent (fields: user_id, event_type, amount, ts, country)
testdata/bad/schema_test.yaml:11:17: writer schema: reading schema: stat testdata/bad/nowhere.avsc: no such file or directory
testdata/bad/schema_test.yaml:14:14: give value or raw, not both
testdata/bad/schema_test.yaml:16:20: expected Unix milliseconds or an RFC 3339 time, got "yesterday"
testdata/bad/schema_test.yaml:20:9: pipeline user-stats has no output "nope" (outputs: stats)`,
		"stateless": `testdata/bad/stateless_test.yaml:7:9: pipeline big-purchases keeps no state
testdata/bad/stateless_test.yaml:9:11: a dead letter expectation needs at least one of key, stage, kind, message, headers
testdata/bad/stateless_test.yaml:10:5: a test named "state of a stateless pipeline" comes earlier in this file`,
		"syntax": `testdata/bad/syntax_test.yaml:2:11: YAML syntax: sequence end token ']' not found`,
		"empty":  `testdata/bad/empty_test.yaml:1:8: no tests in the list`,
	} {
		t.Run(file, func(t *testing.T) {
			_, err := pipetest.Load("testdata/bad/"+file+"_test.yaml", r.Config, r.Schemas, noEnv)
			if err == nil {
				t.Fatal("accepted")
			}
			if err.Error() != want {
				t.Errorf("error:\n%v\nwant:\n%s", err, want)
			}
		})
	}
}

func noEnv(string) string { return "" }

// A pipeline's own tests: list runs like a test file, each case of that
// pipeline; its failures point into the pipelines file.
func TestInlineTests(t *testing.T) {
	schemas := codecs.NewSchemas()
	cfg, err := pipeline.Load("testdata/inline/pipelines.yaml", pipeline.WithSchemas(schemas), pipeline.WithGetenv(noEnv))
	if err != nil {
		t.Fatal(err)
	}
	f, err := pipetest.LoadInline(cfg, schemas, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	results := (&pipetest.Runner{Config: cfg, Schemas: schemas}).RunFile(f, &out)
	if len(results) != 2 || len(results[0].Failures) != 0 || len(results[1].Failures) != 1 {
		t.Fatalf("results %+v, report:\n%s", results, out.String())
	}
	if got, want := results[1].Failures[0].Pos.String(), "testdata/inline/pipelines.yaml:36:19"; got != want {
		t.Errorf("failure at %s, want %s", got, want)
	}
}

// A pipeline that fails while a test runs (a custom step that panics) fails
// the test with the pipeline's error; the run does not hang.
func TestFailingPipeline(t *testing.T) {
	steps := processors.NewRegistry()
	boom := func(spec *processors.Spec) (processors.Step, error) {
		return processors.StepFunc(func(context.Context, *processors.Message) (processors.Result, error) {
			panic("boom")
		}), nil
	}
	if err := steps.Register("boom", boom); err != nil {
		t.Fatal(err)
	}
	schemas := codecs.NewSchemas()
	cfg, err := pipeline.Load("testdata/panic/pipelines.yaml", pipeline.WithSchemas(schemas), pipeline.WithGetenv(noEnv), pipeline.WithSteps(steps))
	if err != nil {
		t.Fatal(err)
	}
	f, err := pipetest.LoadInline(cfg, schemas, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	results := (&pipetest.Runner{Config: cfg, Schemas: schemas}).RunFile(f, &out)
	if len(results) != 1 || len(results[0].Failures) == 0 {
		t.Fatalf("results %+v, report:\n%s", results, out.String())
	}
	if msg := results[0].Failures[0].Msg; !strings.HasPrefix(msg, "running pipeline p: ") || !strings.Contains(msg, "panic in callback: boom") {
		t.Errorf("first failure %q, want the pipeline's panic", msg)
	}
}
