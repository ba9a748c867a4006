package processors_test

import (
	"os"
	"reflect"
	"testing"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors"
)

// fieldTypes maps each field of t to its Go type's name ("" for any).
func fieldTypes(t *processors.Type) map[string]string {
	out := map[string]string{}
	for _, f := range t.Fields {
		name := ""
		if f.Go != nil && f.Go.Kind() != reflect.Interface {
			name = f.Go.String()
		}
		out[f.Name] = name
	}
	return out
}

// The types expressions are checked against are those the codecs decode to.
func TestTypeOfProto(t *testing.T) {
	b, err := os.ReadFile("../testdata/schemas/user_event.proto")
	if err != nil {
		t.Fatal(err)
	}
	pm, err := codecs.ParseProto(string(b), "Envelope")
	if err != nil {
		t.Fatal(err)
	}
	typ := processors.TypeOfProto(pm.Message)
	want := map[string]string{
		"id": "string", "items": "[]interface {}", "counts": "map[string]interface {}", "kind": "string",
		"raw": "[]uint8", "big": "int64", "name": "", "number": "", // oneof members may be null
	}
	if got := fieldTypes(typ); !reflect.DeepEqual(got, want) || typ.Name != "com.example.events.Envelope" || typ.Open {
		t.Fatalf("TypeOfProto = %v (%s, open %v), want %v", got, typ.Name, typ.Open, want)
	}
	pm, err = codecs.ParseProto(string(b), "UserEvent")
	if err != nil {
		t.Fatal(err)
	}
	ev := fieldTypes(processors.TypeOfProto(pm.Message))
	if ev["amount"] != "float64" || ev["country"] != "" || ev["ts"] != "" {
		t.Fatalf("UserEvent types %v: want amount float64, country and ts any", ev)
	}
}

func TestTypeOfJSONSchema(t *testing.T) {
	doc, err := codecs.ParseJSONSchemaFile("../testdata/schemas/user_event.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	typ := processors.TypeOfJSONSchema(doc.Schema)
	got := fieldTypes(typ)
	want := map[string]string{
		"user_id": "string", "event_type": "string", "amount": "", "ts": "int64",
		"country": "", "tags": "[]interface {}", "device": got["device"],
	}
	if !reflect.DeepEqual(got, want) || typ.Name != "UserEvent" {
		t.Fatalf("TypeOfJSONSchema = %v (%s), want %v", got, typ.Name, want)
	}
	dev, _ := typ.Field("device")
	if dev.Go.Kind() != reflect.Struct || dev.Go.NumField() != 2 {
		t.Fatalf("device is %v, want a struct of its two properties", dev.Go)
	}
}
