package registry_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
)

// Avro schemas shared by the tests: the reference UserEvent v1, v2 (adds an
// optional country) and an incompatible v3 (adds region without a default).
const (
	userEventV1 = `{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
		{"name":"user_id","type":"string"},
		{"name":"event_type","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}}]}`
	userEventV2 = `{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
		{"name":"user_id","type":"string"},
		{"name":"event_type","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"country","type":["null","string"],"default":null}]}`
	userEventV3Bad = `{"type":"record","name":"UserEvent","namespace":"com.example.events","fields":[
		{"name":"user_id","type":"string"},
		{"name":"event_type","type":"string"},
		{"name":"amount","type":"double"},
		{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"}},
		{"name":"country","type":["null","string"],"default":null},
		{"name":"region","type":"string"}]}`
	// userEventV1Reordered is userEventV1 with other whitespace and key order.
	userEventV1Reordered = `{ "namespace" : "com.example.events", "fields" : [
		{"type":"string","name":"user_id"}, {"type":"string","name":"event_type"},
		{"type":"double","name":"amount"},
		{"type":{"logicalType":"timestamp-millis","type":"long"},"name":"ts"} ],
		"name" : "UserEvent", "type" : "record" }`
)

// testTopic is "_schemas" on a private kfake cluster, a unique name on a real broker.
func testTopic() string {
	if !testkit.External() {
		return "_schemas"
	}
	return testkit.Unique("_schemas-test")
}

func openKafkaStore(t testing.TB, brokers []string, topic string) *registry.KafkaStore {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{Brokers: brokers, Topic: topic})
	if err != nil {
		t.Fatalf("NewKafkaStore: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

// serve starts an httptest server for store and returns its URL.
func serve(t testing.TB, store registry.Store) string {
	t.Helper()
	srv := httptest.NewServer(registry.NewServer(store))
	t.Cleanup(srv.Close)
	return srv.URL
}

// eachStore runs fn against a fresh registry on every store: memory, and Kafka
// (embedded kfake, or $SLUICE_TEST_BROKERS).
func eachStore(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("memory", func(t *testing.T) {
		fn(t, serve(t, registry.NewMemoryStore()))
	})
	t.Run("kafka", func(t *testing.T) {
		fn(t, serve(t, openKafkaStore(t, testkit.Brokers(t), testTopic())))
	})
}
