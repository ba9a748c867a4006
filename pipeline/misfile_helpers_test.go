package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry"
)

// Modes of registryProxy.
const (
	// proxyPass passes every request to the registry.
	proxyPass = iota
	// proxyBare404 is a web server that is no registry: a plain 404 page
	// for every path (a --registry pointing at the wrong host or path).
	proxyBare404
	// proxyNoSchemas is a registry that has the subjects but knows no
	// schema id: 40403 for every id (an empty or different registry).
	proxyNoSchemas
)

// registryProxy serves a schema registry (memory store) behind a switch that
// makes it answer like something else, on one URL throughout the test.
// direct is the registry itself, for the test's own producers.
type registryProxy struct {
	direct string
	url    string
	mode   atomic.Int32
	asked  atomic.Int64 // requests the proxy answered
}

func newRegistryProxy(t *testing.T, mode int32) *registryProxy {
	t.Helper()
	reg := registry.NewServer(registry.NewMemoryStore())
	p := &registryProxy{}
	p.mode.Store(mode)
	direct := httptest.NewServer(reg)
	t.Cleanup(direct.Close)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.asked.Add(1)
		switch p.mode.Load() {
		case proxyBare404:
			http.NotFound(w, r)
		case proxyNoSchemas:
			if strings.HasPrefix(r.URL.Path, "/schemas/ids/") {
				w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, `{"error_code":40403,"message":"Schema not found"}`)
				return
			}
			reg.ServeHTTP(w, r)
		default:
			reg.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(proxy.Close)
	p.direct, p.url = direct.URL, proxy.URL
	return p
}

// avroPipelineConfig is one pipeline u reading Avro UserEvents from u-in
// (3 partitions) through the registry at registryURL, emitting each as JSON
// to u-out, dead-lettering to u-dlq with the given breaker setting.
func avroPipelineConfig(t *testing.T, brokers []string, registryURL, u, breaker string) *pipeline.Config {
	t.Helper()
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %s
  partitions: 3
  heartbeat: 100ms
  session_timeout: 6s
registry:
  url: %s
pipelines:
  - name: %s
    input: {topic: %s-in, schema: ../schemas/user_event.avsc}
    dead_letter:
      topic: %s-dlq
      breaker: %s
    retry: {attempts: 2, initial_backoff: 5ms, max_backoff: 50ms}
    outputs:
      out: {topic: %s-out, codec: json}
    steps:
      - emit: out
`, strings.Join(brokers, ","), registryURL, u, u, u, breaker, u)
	cfg, err := pipeline.Parse("avro.yaml", []byte(testkit.SecureConfig(src)))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// userEvents encodes n purchase events whose amounts are first, first+1, ...
// (so that each output names its input), keyed over 12 users.
func userEvents(t *testing.T, topic string, encode func(any) ([]byte, error), first, n int) []*kgo.Record {
	t.Helper()
	records := make([]*kgo.Record, 0, n)
	for i := first; i < first+n; i++ {
		v, err := encode(map[string]any{
			"user_id": fmt.Sprintf("u-%d", i%12), "event_type": "purchase", "amount": float64(i),
			"ts": time.UnixMilli(1_790_000_000_000 + int64(i)), "country": "KR",
		})
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("u-%d", i%12)), Value: v})
	}
	return records
}

// poisonFrames are n frames that never decode, half with a bad magic byte
// and half naming schema id 999999, which no registry here knows (40403),
// keyed over the same 12 users as userEvents.
func poisonFrames(topic string, n int) []*kgo.Record {
	records := make([]*kgo.Record, 0, n)
	for i := range n {
		v := []byte{1, 2, 3, 4, 5, 6}
		if i%2 == 1 {
			v = []byte{0, 0x00, 0x0f, 0x42, 0x3f, 2, 4}
		}
		records = append(records, &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("u-%d", i%12)), Value: v})
	}
	return records
}

// get answers path from the operations endpoints of rt.
func get(rt *pipeline.Supervisor, path string) (int, string) {
	rec := httptest.NewRecorder()
	ops.Handler(rt).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// status returns the status of the named pipeline.
func status(t *testing.T, rt *pipeline.Supervisor, name string) pipeline.Status {
	t.Helper()
	for _, st := range rt.Status(context.Background()) {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no status for pipeline %s", name)
	return pipeline.Status{}
}

// outputAmounts reads the n JSON outputs of topic and returns how often each
// amount was emitted.
func outputAmounts(t *testing.T, brokers []string, topic string, n int) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, r := range testkit.ReadAll(t, brokers, topic, n, time.Minute) {
		var v struct {
			Amount float64 `json:"amount"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("output %q: %v", r.Value, err)
		}
		out[int(v.Amount)]++
	}
	return out
}
