package registry_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testkit"
)

// userU is the record x.y.U with a nested record In used twice, written with a
// namespace and short names; the pairs below rewrite it.
const userU = `{"type":"record","name":"U","namespace":"x.y","doc":"a user","fields":[
	{"name":"id","type":"long"},
	{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":0}]}},
	{"name":"work","type":["null","In"],"default":null},
	{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`

// TestSameSchemaSameIdentity registers userU, then other texts: the same
// schema must give the same id and no new version (and be found by lookup),
// a different one a new version and id.
func TestSameSchemaSameIdentity(t *testing.T) {
	cases := []struct {
		name   string
		schema string
		same   bool
	}{
		{"dotted full name instead of namespace", `{"type":"record","name":"x.y.U","doc":"a user","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":0}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, true},
		{"nested names written in full", `{"type":"record","name":"x.y.U","doc":"a user","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"x.y.In","namespace":"ignored.by.full.name","fields":[{"name":"n","type":"int","default":0}]}},
			{"name":"work","type":["null","x.y.In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, true},
		{"attribute order and whitespace", `{ "fields" : [ {"type":"long","name":"id"},
			{"type":{"fields":[{"default":0,"type":"int","name":"n"}],"name":"In","type":"record"},"name":"home"},
			{"default":null,"name":"work","type":["null","In"]},
			{"name":"at","type":{"logicalType":"timestamp-millis","type":"long"}} ],
			"doc" : "a user", "namespace" : "x.y", "name" : "U", "type" : "record" }`, true},
		{"default written as another number", `{"type":"record","name":"U","namespace":"x.y","doc":"a user","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":0.0}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, true},
		{"a differing default", `{"type":"record","name":"U","namespace":"x.y","doc":"a user","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":1}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, false},
		{"a default removed", `{"type":"record","name":"U","namespace":"x.y","doc":"a user","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int"}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, false},
		{"another namespace", `{"type":"record","name":"U","namespace":"x.z","doc":"a user","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":0}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, false},
		{"a logical type dropped", `{"type":"record","name":"U","namespace":"x.y","doc":"a user","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":0}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":"long"}]}`, false},
		{"another doc", `{"type":"record","name":"U","namespace":"x.y","doc":"someone","fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":0}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, false},
		{"an alias added", `{"type":"record","name":"U","namespace":"x.y","doc":"a user","aliases":["V"],"fields":[
			{"name":"id","type":"long"},
			{"name":"home","type":{"type":"record","name":"In","fields":[{"name":"n","type":"int","default":0}]}},
			{"name":"work","type":["null","In"],"default":null},
			{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}`, false},
	}
	eachStore(t, func(t *testing.T, url string) {
		post(t, "PUT", url+"/config", `{"compatibility":"NONE"}`, nil)
		var first struct{ ID int }
		if st := post(t, "POST", url+"/subjects/u/versions", schemaBody(userU), &first); st != 200 {
			t.Fatalf("registering userU: status %d", st)
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				subject := fmt.Sprintf("/subjects/u-%s", testkit.Unique("s"))
				post(t, "POST", url+subject+"/versions", schemaBody(userU), nil)
				var lookup struct{ ID, Version int }
				lookupStatus := post(t, "POST", url+subject, schemaBody(c.schema), &lookup)
				var got struct{ ID int }
				if st := post(t, "POST", url+subject+"/versions", schemaBody(c.schema), &got); st != 200 {
					t.Fatalf("registering: status %d", st)
				}
				var versions []int
				post(t, "GET", url+subject+"/versions", "", &versions)
				if c.same {
					if lookupStatus != 200 || lookup.ID != first.ID || lookup.Version != 1 {
						t.Errorf("lookup: status %d, id %d, version %d; want 200, id %d, version 1", lookupStatus, lookup.ID, lookup.Version, first.ID)
					}
					if got.ID != first.ID || len(versions) != 1 {
						t.Errorf("registered as id %d with versions %v; want id %d and versions [1]", got.ID, versions, first.ID)
					}
					return
				}
				if lookupStatus != 404 {
					t.Errorf("lookup: status %d, want 404", lookupStatus)
				}
				if got.ID == first.ID || len(versions) != 2 {
					t.Errorf("registered as id %d with versions %v; want a new id and versions [1 2]", got.ID, versions)
				}
			})
		}
	})
}

// TestStoredDuplicateIdsStayValid opens a topic in which one schema has two
// ids (as written before schemas were compared by their normal form): both ids
// still resolve, and registering either text again adds no version.
func TestStoredDuplicateIdsStayValid(t *testing.T) {
	brokers, topic := testkit.Brokers(t), testTopic()
	openKafkaStore(t, brokers, topic).Close() // creates the topic
	cl, err := kgo.NewClient(append(testkit.KafkaOpts(t, brokers), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	short := `{"type":"record","name":"U","namespace":"x.y","fields":[{"name":"a","type":"int"}]}`
	dotted := `{"type":"record","name":"x.y.U","fields":[{"name":"a","type":"int"}]}`
	for i, text := range []string{short, dotted} {
		key := fmt.Sprintf(`{"keytype":"SCHEMA","subject":"s","version":%d,"magic":1}`, i+1)
		value := fmt.Sprintf(`{"subject":"s","version":%d,"id":%d,"schema":%s,"deleted":false}`, i+1, i+1, jsonString(text))
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Key: []byte(key), Value: []byte(value)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	url := serve(t, openKafkaStore(t, brokers, topic))
	runSteps(t, url, []httpStep{
		{method: "GET", path: "/schemas/ids/1", status: 200, want: `{"schema":` + jsonString(short) + `}`},
		{method: "GET", path: "/schemas/ids/2", status: 200, want: `{"schema":` + jsonString(dotted) + `}`},
		{method: "POST", path: "/subjects/s/versions", body: schemaBody(short), status: 200, want: `{"id":2}`}, // the latest version of that schema
		{method: "POST", path: "/subjects/s/versions", body: schemaBody(dotted), status: 200, want: `{"id":2}`},
		{method: "GET", path: "/subjects/s/versions", status: 200, want: `[1,2]`},
		// Another subject reuses the first id stored for the schema.
		{method: "POST", path: "/subjects/t/versions", body: schemaBody(dotted), status: 200, want: `{"id":1}`},
	})
}
