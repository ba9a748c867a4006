package pipeline_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/registry"
)

// testRegistry is a schema registry that the test can stop and start again
// over the same store, on the address its first start bound.
type testRegistry struct {
	t     *testing.T
	store registry.Store
	addr  string // 127.0.0.1:0 until the first start has bound a port

	cancel context.CancelFunc
	done   chan error
}

// newTestRegistry serves store on a random loopback port.
func newTestRegistry(t *testing.T, store registry.Store) *testRegistry {
	r := &testRegistry{t: t, store: store, addr: "127.0.0.1:0"}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *testRegistry) url() string { return "http://" + r.addr }

// start serves the registry and returns once it listens. The first start
// binds port 0 and keeps the port it got; a later one binds that port again,
// which this test owned a moment before, so that clients find the registry
// where they left it. Should another process take the port in between,
// starting fails and says so.
func (r *testRegistry) start() {
	r.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan net.Addr, 1)
	done := make(chan error, 1)
	srv := registry.NewServer(r.store)
	go func() { done <- registry.ListenAndServe(ctx, r.addr, srv, func(a net.Addr) { ready <- a }) }()
	select {
	case a := <-ready:
		r.addr = a.String()
	case err := <-done:
		cancel()
		r.t.Fatalf("starting the registry on %s: %v", r.addr, err)
	case <-time.After(30 * time.Second):
		cancel()
		r.t.Fatalf("the registry did not listen on %s within 30s", r.addr)
	}
	r.cancel, r.done = cancel, done
}

// stop shuts the registry down and waits until it no longer listens.
func (r *testRegistry) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	select {
	case err := <-r.done:
		if err != nil {
			r.t.Errorf("registry on %s: %v", r.addr, err)
		}
	case <-time.After(30 * time.Second):
		r.t.Errorf("the registry on %s did not stop within 30s", r.addr)
	}
	r.cancel, r.done = nil, nil
}

// referenceConfigAt is referenceConfig for a broker and registry that do not
// come from a devenv.Env.
func referenceConfigAt(t *testing.T, brokers []string, registryURL string) (*pipeline.Config, refNames) {
	t.Helper()
	return referenceConfigConn(t, testkit.Kafka(brokers), registryURL)
}

// referenceConfigConn is referenceConfigAt for a cluster that may need TLS
// and SASL: the reference file reads them from the same variables as the
// CLI.
func referenceConfigConn(t *testing.T, conn kafkaconn.Config, registryURL string) (*pipeline.Config, refNames) {
	t.Helper()
	return referenceConfigFile(t, "../pipelines.yaml", conn, registryURL)
}

// referenceConfigFile is referenceConfigConn for a copy of the reference
// file at path.
func referenceConfigFile(t *testing.T, path string, conn kafkaconn.Config, registryURL string) (*pipeline.Config, refNames) {
	t.Helper()
	brokers := conn.Brokers
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	suffix := testkit.Unique("")
	text := string(src)
	for _, name := range []string{"user-topic", "user-stats", "big-purchases", "user-purchases-5m"} {
		text = strings.ReplaceAll(text, name, name+suffix)
	}
	text = strings.Replace(text, "  partitioner: murmur2", "  partitioner: murmur2\n  heartbeat: 100ms\n  session_timeout: 6s", 1)
	getenv := func(k string) string {
		switch k {
		case "SLUICE_BROKERS":
			return strings.Join(brokers, ",")
		case "SLUICE_REGISTRY_URL":
			return registryURL
		case "SLUICE_KAFKA_TLS":
			return strconv.FormatBool(conn.TLS.Enabled)
		case "SLUICE_KAFKA_CA_FILE":
			return conn.TLS.CAFile
		case "SLUICE_SASL_MECHANISM":
			return conn.SASL.Mechanism
		case "SLUICE_SASL_USERNAME":
			return conn.SASL.Username
		case "SLUICE_SASL_PASSWORD":
			return conn.SASL.Password
		}
		return ""
	}
	cfg, err := pipeline.Parse(path, []byte(text), pipeline.WithGetenv(getenv))
	if err != nil {
		t.Fatalf("loading reference pipelines: %v", err)
	}
	return cfg, refNames{
		input: "user-topic" + suffix, stats: "user-stats" + suffix, big: "big-purchases" + suffix,
		dlq: "user-topic" + suffix + "-dlq", statsGroup: "user-stats" + suffix, bigGroup: "big-purchases" + suffix,
		purchases: "user-purchases-5m" + suffix, purchasesDLQ: "user-purchases-5m" + suffix + "-dlq",
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

// restartLog counts the runtime's "pipeline stopped, restarting" records per
// pipeline, and passes every record on to the next handler.
type restartLog struct {
	slog.Handler
	mu *sync.Mutex
	n  map[string]int
}

func newRestartLog(next slog.Handler) *restartLog {
	return &restartLog{Handler: next, mu: &sync.Mutex{}, n: map[string]int{}}
}

func (l *restartLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "pipeline stopped, restarting" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key != "pipeline" {
				return true
			}
			l.mu.Lock()
			l.n[a.Value.String()]++
			l.mu.Unlock()
			return false
		})
	}
	return l.Handler.Handle(ctx, r)
}

func (l *restartLog) WithAttrs(as []slog.Attr) slog.Handler {
	return &restartLog{Handler: l.Handler.WithAttrs(as), mu: l.mu, n: l.n}
}

func (l *restartLog) WithGroup(name string) slog.Handler {
	return &restartLog{Handler: l.Handler.WithGroup(name), mu: l.mu, n: l.n}
}

// counts returns how many restarts were logged for each pipeline of names.
func (l *restartLog) counts(names ...string) map[string]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]int, len(names))
	for _, name := range names {
		out[name] = l.n[name]
	}
	return out
}

// gatedInput starts a broker and a gate pipeline over a 3-partition input
// holding 12 records, two for each of 6 keys (keys lists each key once),
// produced before the pipeline starts.
func gatedInput(t *testing.T, prefix string) (brokers []string, gate *gateStep, name string, cfg *pipeline.Config, records []*kgo.Record, keys []string) {
	t.Helper()
	brokers = testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	gate = &gateStep{open: map[string]bool{}, holds: map[string]int{}, tries: map[string]int{}}
	reg := processors.NewRegistry()
	if err := reg.Register("gate", gate.factory); err != nil {
		t.Fatal(err)
	}
	name = testkit.Unique(prefix)
	cfg = gateConfig(t, brokers, reg, name, 3)
	testkit.CreateTopic(t, brokers, name+"-in", 3, nil)
	for i := range 12 {
		k := "key-" + strconv.Itoa(i%6)
		if i < 6 {
			keys = append(keys, k)
		}
		v, _ := json.Marshal(map[string]any{"key": k, "seq": i})
		records = append(records, &kgo.Record{Topic: name + "-in", Key: []byte(k), Value: v})
	}
	testkit.Produce(t, brokers, records)
	return brokers, gate, name, cfg, records, keys
}
