package processors_test

import (
	"math/big"
	"reflect"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
)

const orderSchema = `{
  "type": "record", "name": "Order", "namespace": "com.example",
  "fields": [
    {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}},
    {"name": "quantity", "type": "int"},
    {"name": "weight", "type": "float"},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}},
    {"name": "paid", "type": "boolean"},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "string"}},
    {"name": "address", "type": {"type": "record", "name": "Address",
      "fields": [{"name": "city", "type": "string"}, {"name": "zip", "type": "string"}]}},
    {"name": "note", "type": ["null", "string"], "default": null}
  ]
}`

func orderEnv(t *testing.T) *processors.Env {
	t.Helper()
	s, err := codecs.NewSchemas().Parse(orderSchema)
	if err != nil {
		t.Fatal(err)
	}
	typ := processors.TypeOf(s)
	if !typ.IsRecord() || len(typ.Fields) != 11 {
		t.Fatalf("TypeOf(Order) = %+v", typ)
	}
	return &processors.Env{Value: typ, Vars: map[string]*processors.Type{}, Outputs: map[string]bool{}}
}

// Every Avro type is checked as the Go type package codecs decodes it to.
func TestTypeOfChecksExpressions(t *testing.T) {
	env := orderEnv(t)
	f := build(t, processors.NewFilter, "filter", `status == "PAID" && id != "" && quantity * 2 > 3 && weight < 10.5 &&
  paid && day.Year() >= 2024 && len(tags) > 0 && attrs["gift"] == "yes" && address.city == "Paris" && note == nil && price != nil`, env)
	m := processors.NewMessage("o1", map[string]any{
		"id": "0b9c6f2e-6a1d-4f7e-9a55-1d2f3a4b5c6d", "status": "PAID", "quantity": int32(2), "weight": float32(1.5),
		"price": big.NewRat(1999, 100), "paid": true, "day": time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), "tags": []any{"a"},
		"attrs": map[string]any{"gift": "yes"}, "address": map[string]any{"city": "Paris", "zip": "75001"}, "note": nil,
	}, processors.Meta{})
	if got := process(t, f, m); got != processors.Continue {
		t.Errorf("got %s", resultName(got))
	}
}

func TestTypeOfReportsNestedAndTypeErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`address.cty == "Paris"`, `step.yaml:1:9: expression "address.cty == \"Paris\"": the record has no field cty; did you mean "city"? fields: city, zip`},
		{`status > 3`, `step.yaml:1:8: expression "status > 3": invalid operation: > (mismatched types string and int)`},
		{`paid + 1 > 0`, `step.yaml:1:6: expression "paid + 1 > 0": invalid operation: + (mismatched types bool and int)`},
		{`len(quantity) > 0`, `step.yaml:1:1: expression "len(quantity) > 0": invalid argument for len (type int32)`},
	} {
		if got := configErrors(t, processors.NewFilter, "filter", c.src, orderEnv(t)); got != c.want {
			t.Errorf("filter %s:\ngot  %s\nwant %s", c.src, got, c.want)
		}
	}
}

// Fields neither init nor set name start from their default, else the zero
// value of their type (the epoch for a timestamp).
func TestAggregateZeroValues(t *testing.T) {
	agg := build(t, processors.NewAggregate, "aggregate", "set:\n  events: state.events + 1\n", statefulEnv(t))
	m := processors.NewMessage("u1", event("u1", "view", 1, nil), processors.Meta{})
	process(t, agg, m)
	want := map[string]any{
		"user_id": "", "events": int64(1), "purchases": int64(0), "total_spent": 0.0,
		"last_event_type": "", "last_country": nil, "last_ts": time.UnixMilli(0).UTC(),
	}
	if !reflect.DeepEqual(m.State(), want) {
		t.Errorf("state %#v\nwant %#v", m.State(), want)
	}
}
