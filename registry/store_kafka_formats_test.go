package registry_test

import (
	"testing"

	"github.com/sluicehq/sluice/internal/testkit"
)

// TestKafkaStoreSchemaTypes checks that JSON Schema and Protobuf versions are
// written to `_schemas` as Confluent writes them (schemaType present, omitted
// for AVRO) and served again, same ids, by a store reading the topic anew.
func TestKafkaStoreSchemaTypes(t *testing.T) {
	brokers, topic := testkit.Brokers(t), testTopic()
	url := serve(t, openKafkaStore(t, brokers, topic))
	post(t, "POST", url+"/subjects/j/versions", schemaBody(jsonPerson, `,"schemaType":"JSON"`), nil)
	post(t, "POST", url+"/subjects/p/versions", schemaBody(protoPerson, `,"schemaType":"PROTOBUF"`), nil)
	post(t, "POST", url+"/subjects/a/versions", schemaBody(`"string"`, `,"schemaType":"AVRO"`), nil)

	want := []string{
		"",
		`{"subject":"j","version":1,"id":1,"schemaType":"JSON","schema":` + jsonString(jsonPerson) + `,"deleted":false}`,
		`{"subject":"p","version":1,"id":2,"schemaType":"PROTOBUF","schema":` + jsonString(protoPerson) + `,"deleted":false}`,
		`{"subject":"a","version":1,"id":3,"schema":"\"string\"","deleted":false}`,
	}
	recs := consumeAll(t, brokers, topic)
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if string(r.Value) != want[i] {
			t.Errorf("record %d: %s, want %s", i, r.Value, want[i])
		}
	}

	again := serve(t, openKafkaStore(t, brokers, topic))
	runSteps(t, again, []httpStep{
		{method: "GET", path: "/schemas/ids/1", status: 200, want: `{"schemaType":"JSON","schema":` + jsonString(jsonPerson) + `}`},
		{method: "GET", path: "/schemas/ids/2", status: 200, want: `{"schemaType":"PROTOBUF","schema":` + jsonString(protoPerson) + `}`},
		{method: "POST", path: "/subjects/p/versions", body: schemaBody(protoPersonSpaced, `,"schemaType":"PROTOBUF"`), status: 200, want: `{"id":2}`},
		{method: "POST", path: "/subjects/j/versions", body: schemaBody(jsonPersonSpaced, `,"schemaType":"JSON"`), status: 200, want: `{"id":1}`},
	})
}
