package testkit

import (
	"os"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/processors/config"
)

// BrokersVar names the environment variable that points broker tests at a
// real cluster ("host:port,host:port"); unset means an embedded kfake broker.
const BrokersVar = "SLUICE_TEST_BROKERS"

// Env starts the services a broker test needs and closes them when the test
// ends. When $SLUICE_TEST_BROKERS is set it uses that cluster (secured as
// the SLUICE_TEST_KAFKA_* variables say, see Kafka) and runs only
// the registry, on 127.0.0.1:0, stored in a per-test `_schemas-<random>`
// topic that is deleted afterwards; otherwise it starts kfake and the
// registry on random loopback ports.
func Env(t testing.TB) *devenv.Env {
	t.Helper()
	cfg := devenv.Config{KafkaAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0"}
	if brokers, ok := externalBrokers(t); ok {
		k := Kafka(brokers)
		cfg = devenv.Config{Brokers: brokers, TLS: k.TLS, SASL: k.SASL, RegistryAddr: "127.0.0.1:0"}
	}
	env, err := devenv.Start(t.Context(), cfg)
	if err != nil {
		t.Fatalf("devenv: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Close(); err != nil {
			t.Errorf("devenv: %v", err)
		}
	})
	return env
}

// Brokers returns the brokers of $SLUICE_TEST_BROKERS, or else starts an
// embedded kfake cluster of one broker (with opts) that is closed when the
// test ends. Unlike Env it runs no registry.
func Brokers(t testing.TB, opts ...kfake.Opt) []string {
	t.Helper()
	if brokers, ok := externalBrokers(t); ok {
		return brokers
	}
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// External reports whether broker tests run against the real cluster of
// $SLUICE_TEST_BROKERS.
func External() bool { return os.Getenv(BrokersVar) != "" }

// externalBrokers returns the brokers of $SLUICE_TEST_BROKERS and whether it
// is set; set but listing no broker fails the test.
func externalBrokers(t testing.TB) ([]string, bool) {
	t.Helper()
	list := os.Getenv(BrokersVar)
	if list == "" {
		return nil, false
	}
	brokers := config.SplitList(list)
	if len(brokers) == 0 {
		t.Fatalf("$%s=%q lists no broker", BrokersVar, list)
	}
	return brokers, true
}
