// Command custom-processor is a complete sluice binary with a custom Go step.
//
// The step "tier" labels each purchase gold, silver or bronze by amount, with
// thresholds from YAML, and adds the label as a new field of the record that
// later steps (and the type checker) can use. Build and run it like sluice:
//
//	go run ./examples/custom-processor validate -f examples/custom-processor/pipelines.yaml
//	go run ./examples/custom-processor dev -f examples/custom-processor/pipelines.yaml --demo
//	go run ./examples/custom-processor test -f examples/custom-processor/pipelines.yaml
//
// main_test.go shows how to unit-test a step: it calls the factory, newTier,
// with a spec built from processors/config.Parse, and runs the pipeline's
// test file with `sluice test`.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"reflect"

	"github.com/sluicehq/sluice"
	"github.com/sluicehq/sluice/processors"
)

func main() {
	os.Exit(sluice.Main(sluice.WithSteps(steps())))
}

// steps are the built-in step types and this binary's own.
func steps() *processors.Registry {
	reg := processors.NewRegistry()
	if err := reg.Register("tier", newTier); err != nil {
		log.Fatal(err)
	}
	return reg
}

// tier adds a `tier` field to the record from its amount.
//
//   - tier: {gold: 500, silver: 100}
type tier struct {
	gold, silver float64
}

func newTier(spec *processors.Spec) (processors.Step, error) {
	t := &tier{gold: 500, silver: 100}
	m := spec.Config.Map()
	if m == nil {
		return t, nil
	}
	t.gold = m.FloatOr("gold", t.gold)
	t.silver = m.FloatOr("silver", t.silver)
	m.Done() // any other key is reported as unknown, at its line and column
	if t.silver > t.gold {
		spec.Errorf("silver (%v) must not exceed gold (%v)", t.silver, t.gold)
	}
	if _, ok := spec.Env.Value.Field("amount"); !ok {
		spec.Errorf("tier needs records with an amount field")
	}
	// Later steps see the new field, typed, so `tier == "gold"` type-checks.
	if spec.Env.Value.IsRecord() {
		out := *spec.Env.Value
		out.Fields = append(append([]processors.Field(nil), out.Fields...), processors.Field{Name: "tier", Go: reflect.TypeOf("")})
		out.Schema = nil
		spec.Env.Value = &out
	}
	return t, nil
}

func (t *tier) Process(_ context.Context, m *processors.Message) (processors.Result, error) {
	rec, ok := m.Value().(map[string]any)
	if !ok {
		return processors.Drop, fmt.Errorf("tier: value is %T, not a record", m.Value())
	}
	amount, _ := rec["amount"].(float64)
	label := "bronze"
	switch {
	case amount >= t.gold:
		label = "gold"
	case amount >= t.silver:
		label = "silver"
	}
	out := make(map[string]any, len(rec)+1)
	for k, v := range rec {
		out[k] = v
	}
	out["tier"] = label
	m.SetValue(out)
	return processors.Continue, nil
}
