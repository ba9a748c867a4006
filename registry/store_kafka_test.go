package registry_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
)

// snapshotPaths are the reads compared before and after a restart.
var snapshotPaths = []string{
	"/subjects", "/subjects?deleted=true", "/config", "/config/s", "/config/gone",
	"/subjects/s/versions", "/subjects/s/versions?deleted=true",
	"/subjects/s/versions/1", "/subjects/s/versions/2?deleted=true", "/subjects/s/versions/3",
	"/subjects/s/versions/latest", "/subjects/gone/versions", "/subjects/gone/versions?deleted=true",
	"/subjects/other/versions/1", "/schemas/ids/1", "/schemas/ids/2", "/schemas/ids/3", "/schemas/ids/4",
	"/schemas/ids/1/versions?deleted=true", "/schemas/ids/2/versions", "/subjects/s/versions/4",
}

func snapshot(t *testing.T, url string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range snapshotPaths {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		out[p] = resp.Status + " " + string(b)
	}
	return out
}

// TestKafkaStoreRestart registers, configures and deletes, then opens a new
// store on the same broker and expects the same answers, ids and versions.
func TestKafkaStoreRestart(t *testing.T) {
	brokers, topic := testkit.Brokers(t), testTopic()
	store1 := openKafkaStore(t, brokers, topic)
	srv1 := httptest.NewServer(registry.NewServer(store1))
	url := srv1.URL
	for _, s := range []struct{ method, path, body string }{
		{"POST", "/subjects/s/versions", schemaBody(userEventV1)},
		{"POST", "/subjects/s/versions", schemaBody(userEventV2)},
		{"PUT", "/config/s", `{"compatibility":"NONE"}`},
		{"POST", "/subjects/s/versions", schemaBody(userEventV3Bad)},
		{"POST", "/subjects/s/versions", schemaBody(`"string"`)},
		{"PUT", "/config", `{"compatibility":"FULL_TRANSITIVE"}`},
		{"DELETE", "/subjects/s/versions/2", ""},
		{"DELETE", "/subjects/s/versions/4", ""},
		{"DELETE", "/subjects/s/versions/4?permanent=true", ""},
		{"POST", "/subjects/other/versions", schemaBody(userEventV1)},
		{"POST", "/subjects/gone/versions", schemaBody(`"int"`)},
		{"PUT", "/config/gone", `{"compatibility":"FORWARD"}`},
		{"DELETE", "/subjects/gone", ""},
	} {
		if st := post(t, s.method, url+s.path, s.body, nil); st != 200 {
			t.Fatalf("%s %s: status %d", s.method, s.path, st)
		}
	}
	before := snapshot(t, url)
	srv1.Close()
	if err := store1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := store1.Close(); err != nil { // idempotent
		t.Fatal(err)
	}

	store2 := openKafkaStore(t, brokers, topic)
	url2 := serve(t, store2)
	after := snapshot(t, url2)
	for _, p := range snapshotPaths {
		if before[p] != after[p] {
			t.Errorf("%s after restart:\n got %s\nwant %s", p, after[p], before[p])
		}
	}
	if !strings.Contains(before["/config"], "FULL_TRANSITIVE") || !strings.Contains(before["/subjects/s/versions"], "[1,3]") {
		t.Fatalf("unexpected state before restart: %v", before)
	}
	// Numbering continues: the next id is 6 (5 is "int" under gone); the next
	// version of s is 4, as version 4 was permanently deleted and 3 is the highest left.
	var got struct {
		ID int `json:"id"`
	}
	post(t, "POST", url2+"/subjects/s/versions", schemaBody(`"long"`), &got)
	var versions []int
	post(t, "GET", url2+"/subjects/s/versions", "", &versions)
	if got.ID != 6 || !reflect.DeepEqual(versions, []int{1, 3, 4}) {
		t.Fatalf("after restart: id %d versions %v, want 6 and [1 3 4]", got.ID, versions)
	}
}

// consumeAll reads every record of topic.
func consumeAll(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(append(testkit.KafkaOpts(t, brokers), kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lo, err := listEnd(ctx, cl, topic)
	if err != nil {
		t.Fatal(err)
	}
	var out []*kgo.Record
	for int64(len(out)) < lo {
		f := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("consumed %d of %d records: %v", len(out), lo, err)
		}
		f.EachRecord(func(r *kgo.Record) { out = append(out, r) })
	}
	return out
}

func listEnd(ctx context.Context, cl *kgo.Client, topic string) (int64, error) {
	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return 0, err
	}
	p := resp.Topics[0].Partitions[0]
	return p.Offset, kerr.ErrorForCode(p.ErrorCode)
}

// TestKafkaStoreTopicFormat checks the records written to `_schemas` against
// Confluent's key/value format, and the topic's shape.
func TestKafkaStoreTopicFormat(t *testing.T) {
	brokers, topic := testkit.Brokers(t), testTopic()
	url := serve(t, openKafkaStore(t, brokers, topic))
	post(t, "POST", url+"/subjects/s/versions", schemaBody(`"string"`), nil)
	post(t, "PUT", url+"/config", `{"compatibility":"FULL"}`, nil)
	post(t, "PUT", url+"/config/s", `{"compatibility":"NONE"}`, nil)
	post(t, "DELETE", url+"/subjects/s/versions/1", "", nil)
	post(t, "DELETE", url+"/subjects/s/versions/1?permanent=true", "", nil)
	post(t, "POST", url+"/subjects/s/versions", schemaBody(`"int"`), nil)
	post(t, "DELETE", url+"/subjects/s", "", nil)

	type kv struct{ key, value string }
	want := []kv{
		{`{"keytype":"NOOP","magic":0}`, ""},
		{`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}`, `{"subject":"s","version":1,"id":1,"schema":"\"string\"","deleted":false}`},
		{`{"keytype":"CONFIG","magic":0}`, `{"compatibilityLevel":"FULL"}`},
		{`{"keytype":"CONFIG","subject":"s","magic":0}`, `{"compatibilityLevel":"NONE"}`},
		{`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}`, `{"subject":"s","version":1,"id":1,"schema":"\"string\"","deleted":true}`},
		{`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}`, ""},
		// Version 1 was permanently deleted, so the subject starts again at 1; ids never go back.
		{`{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}`, `{"subject":"s","version":1,"id":2,"schema":"\"int\"","deleted":false}`},
		{`{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}`, `{"subject":"s","version":1}`},
		{`{"keytype":"CONFIG","subject":"s","magic":0}`, ""},
	}
	recs := consumeAll(t, brokers, topic)
	if len(recs) != len(want) {
		for _, r := range recs {
			t.Logf("%s => %s", r.Key, r.Value)
		}
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	for i, r := range recs {
		if string(r.Key) != want[i].key || string(r.Value) != want[i].value || (want[i].value == "" && r.Value != nil) {
			t.Errorf("record %d: %s => %s (nil value: %v), want %s => %s", i, r.Key, r.Value, r.Value == nil, want[i].key, want[i].value)
		}
	}

	cl, err := kgo.NewClient(testkit.KafkaOpts(t, brokers)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	dreq := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeTopic
	res.ResourceName = topic
	dreq.Resources = append(dreq.Resources, res)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dresp, err := dreq.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("describing %s: %v", topic, err)
	}
	policy := ""
	for _, c := range dresp.Resources[0].Configs {
		if c.Name == "cleanup.policy" && c.Value != nil {
			policy = *c.Value
		}
	}
	if policy != "compact" {
		t.Fatalf("cleanup.policy = %q", policy)
	}
}

// TestKafkaStoreReadsConfluentTopic loads a topic written by another registry:
// unknown key types and fields are ignored, a JSON schema is served, and a
// compatibility check against it reports the type difference.
func TestKafkaStoreReadsConfluentTopic(t *testing.T) {
	brokers, topic := testkit.Brokers(t), testTopic()
	openKafkaStore(t, brokers, topic).Close() // creates the topic
	cl, err := kgo.NewClient(append(testkit.KafkaOpts(t, brokers), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	records := []struct{ k, v string }{
		{`{"keytype":"SCHEMA","subject":"a","version":1,"magic":1}`, `{"subject":"a","version":1,"id":7,"schemaType":"JSON","schema":"{\"type\":\"object\"}","deleted":false,"metadata":null,"ruleSet":null}`},
		{`{"keytype":"MODE","subject":null,"magic":0}`, `{"mode":"READWRITE"}`},
		{`{"keytype":"CONTEXT","tenant":"default","context":".","magic":0}`, `{}`},
		{`{"keytype":"CONFIG","subject":null,"magic":0}`, `{"alias":null,"normalize":null,"compatibilityLevel":"FORWARD"}`},
		{`{"keytype":"SCHEMA","subject":"b","version":3,"magic":1}`, `{"subject":"b","version":3,"id":9,"schema":"\"string\"","deleted":false}`},
		{`not json`, `garbage`},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, r := range records {
		if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(r.k), Value: []byte(r.v)}).FirstErr(); err != nil {
			t.Fatalf("producing %s: %v", r.k, err)
		}
	}
	url := serve(t, openKafkaStore(t, brokers, topic))
	runSteps(t, url, []httpStep{
		{method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"FORWARD"}`},
		{method: "GET", path: "/subjects", status: 200, want: `["a","b"]`},
		{method: "GET", path: "/schemas/ids/7", status: 200, want: `{"schemaType":"JSON","schema":"{\"type\":\"object\"}"}`},
		{method: "GET", path: "/subjects/a/versions/1", status: 200, want: `{"subject":"a","version":1,"id":7,"schemaType":"JSON","schema":"{\"type\":\"object\"}"}`},
		{method: "POST", path: "/compatibility/subjects/a/versions/latest?verbose=true", body: schemaBody(`"string"`), status: 200, contains: "different schema types are never compatible"},
		{method: "POST", path: "/compatibility/subjects/a/versions/latest", body: schemaBody(`"string"`), status: 200, want: `{"is_compatible":false}`},
		// New ids continue after the highest id seen; versions after the highest version.
		{method: "POST", path: "/subjects/b/versions", body: schemaBody(`"bytes"`), status: 200, want: `{"id":10}`}, // FORWARD: string reads bytes
		{method: "GET", path: "/subjects/b/versions", status: 200, want: `[3,4]`},
	})
}

func TestNewKafkaStoreErrors(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{}); err == nil {
		t.Fatal("no brokers: no error")
	}
	brokers := testkit.Brokers(t)
	cl, err := kgo.NewClient(testkit.KafkaOpts(t, brokers)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	create := func(topic string, partitions int32, policy string) {
		req := kmsg.NewPtrCreateTopicsRequest()
		rt := kmsg.NewCreateTopicsRequestTopic()
		rt.Topic, rt.NumPartitions, rt.ReplicationFactor = topic, partitions, 1
		c := kmsg.NewCreateTopicsRequestTopicConfig()
		c.Name, c.Value = "cleanup.policy", kmsg.StringPtr(policy)
		rt.Configs = append(rt.Configs, c)
		req.Topics = append(req.Topics, rt)
		resp, err := req.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.Topics[0].ErrorCode)
		}
		if err != nil {
			t.Fatalf("creating %s: %v", topic, err)
		}
	}
	multi, deleting := testTopic()+"-multi", testTopic()+"-delete"
	create(multi, 3, "compact")
	create(deleting, 1, "delete")
	for topic, want := range map[string]string{multi: "exactly 1", deleting: "cleanup.policy=delete"} {
		_, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{Brokers: brokers, ClientOpts: testkit.KafkaOpts(t, brokers), Topic: topic})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("topic %s: error %v, want one containing %q", topic, err, want)
		}
	}
}

// TestKafkaStoreBrokerGone: with the broker gone, writes fail with a 500 and a
// 5000x code instead of hanging, and reads are still served.
func TestKafkaStoreBrokerGone(t *testing.T) {
	if os.Getenv("SLUICE_TEST_BROKERS") != "" {
		t.Skip("needs an embedded broker it can stop") // a real broker cannot be stopped from here
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{Brokers: c.ListenAddrs(), WriteTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	srv := httptest.NewServer(registry.NewServer(store, registry.WithLogger(logger)))
	defer srv.Close()
	post(t, "POST", srv.URL+"/subjects/s/versions", schemaBody(`"string"`), nil)
	c.Close()
	// A refused connection fails as a store error (50001), a write that outlives
	// the delivery timeout as a timeout (50002); which one comes first is kgo's call.
	for _, w := range []struct{ method, path, body string }{
		{"POST", "/subjects/s/versions", schemaBody(`["null","string"]`)},
	} {
		var e struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		st := post(t, w.method, srv.URL+w.path, w.body, &e)
		if st != 500 || (e.Code != 50001 && e.Code != 50002) || !strings.Contains(e.Message, "writing to _schemas") {
			t.Fatalf("%s %s with the broker gone: status %d %+v", w.method, w.path, st, e)
		}
	}
	runSteps(t, srv.URL, []httpStep{
		{method: "GET", path: "/subjects/s/versions/1", status: 200, want: `{"subject":"s","version":1,"id":1,"schema":"\"string\""}`},
		{method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"BACKWARD"}`},
	})
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "schema registry request failed") {
		t.Fatalf("5xx not logged: %s", logs.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
