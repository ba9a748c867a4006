package registry_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

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

// testBrokers returns $SLUICE_TEST_BROKERS, or the address of a fresh embedded
// kfake cluster closed with the test.
func testBrokers(t testing.TB) []string {
	t.Helper()
	if b := os.Getenv("SLUICE_TEST_BROKERS"); b != "" {
		return strings.Split(b, ",")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

var topicSeq atomic.Int64

// testTopic is "_schemas" on a private kfake cluster, a unique name on a real broker.
func testTopic() string {
	if os.Getenv("SLUICE_TEST_BROKERS") == "" {
		return "_schemas"
	}
	return fmt.Sprintf("_schemas-test-%d-%d", time.Now().UnixNano(), topicSeq.Add(1))
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
		fn(t, serve(t, openKafkaStore(t, testBrokers(t), testTopic())))
	})
}
