package main

import (
	"context"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/processors/config"
)

// purchase is the value type the tier step sees in pipelines.yaml: a record
// with a double amount (the other fields do not matter to it).
var purchase = &processors.Type{Fields: []processors.Field{
	{Name: "user_id", Go: reflect.TypeOf("")},
	{Name: "amount", Go: reflect.TypeOf(0.0)},
}}

// newSpec parses yaml as the step's configuration, the way the loader hands
// it to the factory.
func newSpec(t *testing.T, yaml string) *processors.Spec {
	t.Helper()
	cfg, err := config.Parse(yaml)
	if err != nil {
		t.Fatal(err)
	}
	return processors.NewSpec("tier", cfg, purchase)
}

// The factory reads its thresholds, and the steps after it see a string
// field "tier".
func TestNewTier(t *testing.T) {
	spec := newSpec(t, "{gold: 200, silver: 49.5}")
	step, err := newTier(spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Err(); err != nil {
		t.Fatalf("config problems: %v", err)
	}
	if f, ok := spec.Env.Value.Field("tier"); !ok || f.Go != reflect.TypeOf("") {
		t.Errorf("the steps after tier see field tier %+v (%v), want a string", f, ok)
	}
	for amount, want := range map[float64]string{10: "bronze", 49.5: "silver", 199.99: "silver", 200: "gold"} {
		m := processors.NewMessage("u1", map[string]any{"user_id": "u1", "amount": amount}, processors.Meta{})
		if res, err := step.Process(context.Background(), m); err != nil || res != processors.Continue {
			t.Fatalf("amount %v: %v, %v", amount, res, err)
		}
		if got := m.Value().(map[string]any)["tier"]; got != want {
			t.Errorf("amount %v: tier %v, want %s", amount, got, want)
		}
	}
}

// Every configuration problem is reported at its position, all at once.
func TestNewTierConfigProblems(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"{gold: 50, silver: 100}", "config.yaml:1:1: silver (100) must not exceed gold (50)"},
		{"{silver: lots}", `config.yaml:1:10: expected a number, got "lots"`},
		{"{gold: 500, bronze: 1}", `config.yaml:1:13: unknown field "bronze"; known fields: gold, silver`},
		{"gold", "config.yaml:1:1: expected a mapping of keys to values, got string \"gold\""},
	} {
		spec := newSpec(t, c.yaml)
		if _, err := newTier(spec); err != nil {
			t.Fatalf("%s: %v", c.yaml, err)
		}
		if err := spec.Err(); err == nil || err.Error() != c.want {
			t.Errorf("%s: problems %v\nwant %s", c.yaml, err, c.want)
		}
	}
}

// A record without an amount cannot be labelled: the step's error
// dead-letters it (stage tier).
func TestTierWithoutAmount(t *testing.T) {
	step, err := newTier(newSpec(t, "{}"))
	if err != nil {
		t.Fatal(err)
	}
	m := processors.NewMessage("u1", "not a record", processors.Meta{})
	if res, err := step.Process(context.Background(), m); err == nil || res != processors.Drop {
		t.Errorf("got %v, %v; want Drop and an error", res, err)
	}
}
