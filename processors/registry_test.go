package processors_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/processors"
)

var builtinSteps = []string{"aggregate", "emit", "filter", "lookup", "map", "route", "validate", "window"}

func TestRegistryBuiltins(t *testing.T) {
	reg := processors.NewRegistry()
	names := reg.Names()
	for _, b := range builtinSteps {
		if _, ok := reg.Lookup(b); !ok {
			t.Errorf("NewRegistry lacks %q (has %v)", b, names)
		}
	}
	if got := processors.NewRegistry().Names(); !reflect.DeepEqual(got, builtinSteps) {
		t.Errorf("Names() = %v, want %v", got, builtinSteps)
	}
}

func TestRegistryRejectsDuplicatesAndEmpty(t *testing.T) {
	reg := processors.NewRegistry()
	for _, c := range []struct {
		name    string
		factory processors.Factory
		want    string
	}{
		{"filter", processors.NewMap, `registering step "filter": a step with that name is already registered`},
		{"", processors.NewMap, "registering step: empty name or nil factory"},
		{"nothing", nil, "registering step: empty name or nil factory"},
	} {
		err := reg.Register(c.name, c.factory)
		if err == nil || err.Error() != c.want {
			t.Errorf("Register(%q): %v, want %q", c.name, err, c.want)
		}
	}
	// The built-in filter is still the filter.
	f, _ := reg.Lookup("filter")
	step := build(t, f, "filter", `amount > 1`, statelessEnv(t))
	if got := process(t, step, processors.NewMessage("u", event("u", "x", 2, nil), processors.Meta{})); got != processors.Continue {
		t.Errorf("filter after a rejected overwrite: %s", resultName(got))
	}
	// A registry is a value: registering in one leaves others alone.
	if err := reg.Register("upper", newUpper); err != nil {
		t.Fatal(err)
	}
	if _, ok := processors.NewRegistry().Lookup("upper"); ok {
		t.Error("a step registered in one registry shows up in a new one")
	}
	if err := reg.Register("upper", newUpper); err == nil {
		t.Error("registering upper twice succeeded")
	}
}

// newUpper is a custom step: `upper: FIELD` upper-cases a string field of the record.
func newUpper(spec *processors.Spec) (processors.Step, error) {
	field := spec.Config.String()
	if _, ok := spec.Env.Value.Field(field); !ok && spec.Env.Value.IsRecord() {
		spec.Errorf("upper: the record has no field %q", field)
	}
	return processors.StepFunc(func(_ context.Context, m *processors.Message) (processors.Result, error) {
		rec, _ := m.Value().(map[string]any)
		out := make(map[string]any, len(rec))
		for k, v := range rec {
			out[k] = v
		}
		if s, ok := out[field].(string); ok {
			out[field] = strings.ToUpper(s)
		}
		m.SetValue(out)
		return processors.Continue, nil
	}), nil
}

func TestRegistryCustomStep(t *testing.T) {
	reg := processors.NewRegistry()
	if err := reg.Register("upper", newUpper); err != nil {
		t.Fatal(err)
	}
	factory, ok := reg.Lookup("upper")
	if !ok {
		t.Fatal("upper is not registered")
	}
	want := []string{"aggregate", "emit", "filter", "lookup", "map", "route", "upper", "validate", "window"}
	if got := reg.Names(); !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	env := statelessEnv(t)
	step := build(t, factory, "upper", `country`, env)
	// Later built-in steps see the value the custom step made.
	f := build(t, processors.NewFilter, "filter", `country == "FR"`, env)
	m := processors.NewMessage("u1", event("u1", "view", 1, "fr"), processors.Meta{})
	process(t, step, m)
	if got := process(t, f, m); got != processors.Continue {
		t.Errorf("country after upper: %v", m.Value())
	}
	if got := configErrors(t, factory, "upper", `contry`, statelessEnv(t)); got != `step.yaml:1:1: upper: the record has no field "contry"` {
		t.Errorf("got %s", got)
	}
}
