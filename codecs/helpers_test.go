package codecs_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
	"github.com/sluicehq/sluice/schemas"
)

// testRegistry is sluice's own registry server (memory store) behind httptest, counting the
// writer-schema fetches (GET /schemas/ids/{id}) it answers.
type testRegistry struct {
	t       testing.TB
	URL     string
	fetches atomic.Int64
}

func newTestRegistry(t testing.TB) *testRegistry {
	t.Helper()
	tr := &testRegistry{t: t}
	srv := registry.NewServer(registry.NewMemoryStore())
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/schemas/ids/") {
			tr.fetches.Add(1)
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	tr.URL = hs.URL
	return tr
}

// client returns a fresh registry client (it caches nothing, so every codec-level cache miss
// is visible as a request).
func (tr *testRegistry) client() *regclient.Client {
	return newClient(tr.t, tr.URL, 0)
}

// newClient returns a registry client for url with a per-request timeout (0: the default).
func newClient(t testing.TB, url string, timeout time.Duration) *regclient.Client {
	t.Helper()
	c, err := regclient.New(regclient.Config{URL: url, Timeout: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func userEventV2(t testing.TB) string {
	t.Helper()
	b, err := schemas.ReadFile(schemas.UserEventFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func userEventV1(t testing.TB) string {
	return readFile(t, "../testdata/schemas/user_event_v1.avsc")
}

func mustParse(t testing.TB, s *codecs.Schemas, text string) avro.Schema {
	t.Helper()
	sch, err := s.Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

func mustAvro(t testing.TB, client codecs.Registry, s *codecs.Schemas, reader avro.Schema, opts ...codecs.AvroOption) *codecs.Avro {
	t.Helper()
	c, err := codecs.NewAvro(client, s, reader, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
