package processors_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/processors/config"
)

// ts0 is the timestamp of the test events (timestamp-millis, UTC).
var ts0 = time.UnixMilli(1_700_000_000_000).UTC()

// types parses the reference schemas the way the loader does and returns
// the UserEvent and UserStats types.
func types(t testing.TB) (event, stats *processors.Type) {
	t.Helper()
	schemas := codecs.NewSchemas()
	e, err := schemas.ParseFile("../schemas/user_event.avsc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := schemas.ParseFile("../schemas/user_stats.avsc")
	if err != nil {
		t.Fatal(err)
	}
	return processors.TypeOf(e), processors.TypeOf(s)
}

// statelessEnv is the env of the first step of the big-purchases pipeline:
// a UserEvent value, no state, the given outputs and the user-stats table.
func statelessEnv(t testing.TB, outputs ...string) *processors.Env {
	t.Helper()
	event, stats := types(t)
	env := &processors.Env{
		Value:   event,
		Vars:    map[string]*processors.Type{},
		Outputs: map[string]bool{},
		Tables:  map[string]*processors.Type{"user-stats": stats},
	}
	for _, o := range outputs {
		env.Outputs[o] = true
	}
	return env
}

// statefulEnv is the env of the first step of the user-stats pipeline.
func statefulEnv(t testing.TB, outputs ...string) *processors.Env {
	t.Helper()
	env := statelessEnv(t, outputs...)
	_, env.State = types(t)
	return env
}

// spec parses src as the YAML under a step's type key (file "step.yaml").
// Schema paths in it are relative to the repository root, as in pipelines.yaml.
func spec(t testing.TB, typ, src string, env *processors.Env) (*processors.Spec, *config.Reporter) {
	t.Helper()
	rep := &config.Reporter{}
	root, err := config.ParseFile("step.yaml", []byte(src), func(string) string { return "" }, rep)
	if err != nil {
		t.Fatalf("parsing %q: %v", src, err)
	}
	schemas := codecs.NewSchemas()
	return &processors.Spec{
		Type:   typ,
		Config: root,
		Env:    env,
		SchemaFile: func(path string) (avro.Schema, error) {
			return schemas.ParseFile(filepath.Join("..", path))
		},
	}, rep
}

// build makes a step with factory and fails the test on any config problem.
func build(t testing.TB, factory processors.Factory, typ, src string, env *processors.Env) processors.Step {
	t.Helper()
	s, rep := spec(t, typ, src, env)
	step, err := factory(s)
	if err != nil {
		t.Fatalf("%s %q: %v", typ, src, err)
	}
	if err := rep.Err(); err != nil {
		t.Fatalf("%s %q: config problems:\n%v", typ, src, err)
	}
	return step
}

// configErrors returns the problems factory reports for src, as the lint
// prints them.
func configErrors(t testing.TB, factory processors.Factory, typ, src string, env *processors.Env) string {
	t.Helper()
	s, rep := spec(t, typ, src, env)
	if _, err := factory(s); err != nil {
		t.Fatalf("%s %q: %v", typ, src, err)
	}
	err := rep.Err()
	if err == nil {
		t.Fatalf("%s %q: no config problem reported", typ, src)
	}
	return err.Error()
}

// event is a UserEvent in canonical form; country nil is the union's null.
func event(user, eventType string, amount float64, country any) map[string]any {
	return map[string]any{
		"user_id":    user,
		"event_type": eventType,
		"amount":     amount,
		"ts":         ts0,
		"country":    country,
	}
}

// process runs step on m and fails the test on an error.
func process(t testing.TB, step processors.Step, m *processors.Message) processors.Result {
	t.Helper()
	res, err := step.Process(context.Background(), m)
	if err != nil {
		t.Fatalf("Process: %v", err)
	}
	return res
}

func resultName(r processors.Result) string {
	switch r {
	case processors.Continue:
		return "Continue"
	case processors.Drop:
		return "Drop"
	}
	return "Result(?)"
}
