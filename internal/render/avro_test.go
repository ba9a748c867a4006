package render_test

import (
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/render"
)

func TestAvroKeepsSchemaOrder(t *testing.T) {
	sc, err := codecs.NewSchemas().Parse(`{"type":"record","name":"R","fields":[
		{"name":"z","type":"string"},
		{"name":"inner","type":["null",{"type":"record","name":"I","fields":[
			{"name":"y","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"b","type":"boolean"}]}]},
		{"name":"list","type":{"type":"array","items":"I"}},
		{"name":"a","type":["null","string"]}]}`)
	if err != nil {
		t.Fatal(err)
	}
	ts := time.UnixMilli(1700000000000).UTC()
	v := map[string]any{
		"a": nil, "z": "<z>",
		"inner": map[string]any{"b": true, "y": ts},
		"list":  []any{map[string]any{"b": false, "y": ts}},
	}
	got, err := render.Avro(sc, v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"z":"<z>","inner":{"y":1700000000000,"b":true},"list":[{"y":1700000000000,"b":false}],"a":null}`
	if string(got.JSON) != want || got.Base64 != "" || got.Error != "" {
		t.Fatalf("got  %+v\nwant %s", got, want)
	}
}
