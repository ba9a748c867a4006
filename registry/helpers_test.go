package registry_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
)

// The UserEvent schemas of internal/testkit, under short names.
const (
	userEventV1          = testkit.UserEventV1
	userEventV2          = testkit.UserEventV2
	userEventV3Bad       = testkit.UserEventV3Bad
	userEventV1Reordered = testkit.UserEventV1Reordered
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
	store, err := registry.NewKafkaStore(ctx, registry.KafkaStoreConfig{Brokers: brokers, ClientOpts: testkit.KafkaOpts(t, brokers), Topic: topic})
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
