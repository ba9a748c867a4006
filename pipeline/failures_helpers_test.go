package pipeline_test

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry"
)

// testRegistry is a schema registry served on a fixed address that the test
// can stop and start again over the same store.
type testRegistry struct {
	t     *testing.T
	store registry.Store
	addr  string

	cancel context.CancelFunc
	done   chan error
}

func newTestRegistry(t *testing.T, store registry.Store, addr string) *testRegistry {
	r := &testRegistry{t: t, store: store, addr: addr}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *testRegistry) url() string { return "http://" + r.addr }

// start serves the registry and returns once it listens. The port was free
// when it was picked; if another process took it meanwhile, starting fails.
func (r *testRegistry) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan struct{})
	done := make(chan error, 1)
	srv := registry.NewServer(r.store)
	go func() { done <- registry.ListenAndServe(ctx, r.addr, srv, func(net.Addr) { close(ready) }) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		r.t.Fatalf("starting the registry on %s: %v", r.addr, err)
	}
	r.cancel, r.done = cancel, done
}

// stop shuts the registry down and waits until it no longer listens.
func (r *testRegistry) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	if err := <-r.done; err != nil {
		r.t.Errorf("registry on %s: %v", r.addr, err)
	}
	r.cancel, r.done = nil, nil
}

// referenceConfigAt is referenceConfig for a broker and registry that do not
// come from a devenv.Env.
func referenceConfigAt(t *testing.T, brokers []string, registryURL string) (*pipeline.Config, refNames) {
	t.Helper()
	src, err := os.ReadFile("../pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	suffix := testkit.Unique("")
	text := string(src)
	for _, name := range []string{"user-topic", "user-stats", "big-purchases"} {
		text = strings.ReplaceAll(text, name, name+suffix)
	}
	text = strings.Replace(text, "  partitioner: murmur2", "  partitioner: murmur2\n  heartbeat: 100ms\n  session_timeout: 6s", 1)
	getenv := func(k string) string {
		switch k {
		case "SLUICE_BROKERS":
			return strings.Join(brokers, ",")
		case "SLUICE_REGISTRY_URL":
			return registryURL
		}
		return ""
	}
	cfg, err := pipeline.Parse("../pipelines.yaml", []byte(text), pipeline.WithGetenv(getenv))
	if err != nil {
		t.Fatalf("loading reference pipelines: %v", err)
	}
	return cfg, refNames{
		input: "user-topic" + suffix, stats: "user-stats" + suffix, big: "big-purchases" + suffix,
		dlq: "user-topic" + suffix + "-dlq", statsGroup: "user-stats" + suffix, bigGroup: "big-purchases" + suffix,
	}
}

// mustHeader returns a record header, reporting an error when it is missing.
func mustHeader(t *testing.T, r *kgo.Record, key string) string {
	t.Helper()
	v, ok := testkit.Header(r, key)
	if !ok {
		t.Errorf("record %d/%d lacks header %s", r.Partition, r.Offset, key)
	}
	return v
}
