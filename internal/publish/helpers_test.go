package publish_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/publish"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

const userEventSchema = "../../schemas/user_event.avsc"

// fixture is a gateway served over HTTP with its broker and registry.
type fixture struct {
	url      string // the gateway's base URL
	brokers  []string
	topic    string
	registry *regclient.Client
	schema   avro.Schema
	gw       *publish.Gateway
}

// userEventSchemaParsed parses the reference UserEvent schema.
func userEventSchemaParsed(t testing.TB) avro.Schema {
	t.Helper()
	s, err := codecs.NewSchemas().ParseFile(userEventSchema)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newRegistry serves an in-memory schema registry until the test ends.
func newRegistry(t testing.TB) (*httptest.Server, *regclient.Client) {
	t.Helper()
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	t.Cleanup(srv.Close)
	cl, err := regclient.New(regclient.Config{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return srv, cl
}

// userEventsRoute is the reference route on topic, with edit applied.
func userEventsRoute(schema avro.Schema, topic string) publish.Route {
	return publish.Route{
		Path:         "/publish/user-events",
		Topic:        topic,
		Schema:       schema,
		KeyField:     "user_id",
		MaxBodyBytes: 1 << 20,
		Timeout:      10 * time.Second,
	}
}

// startGateway serves a gateway of route (Topic filled in with a new topic
// of 3 partitions) on the brokers of conn, until the test ends.
func startGateway(t testing.TB, conn kafkaconn.Config, reg codecs.Registry, route publish.Route) *publish.Gateway {
	t.Helper()
	gw, err := publish.New(publish.Config{Kafka: conn, Registry: reg, Routes: []publish.Route{route}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// A test that stopped the broker leaves a record behind: give up
		// on it soon.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = gw.Close(ctx)
	})
	return gw
}

// newFixture serves the reference route, on a new topic of the test
// brokers ($SLUICE_TEST_BROKERS with its security settings, or kfake),
// changed by edit.
func newFixture(t testing.TB, edit func(*publish.Route)) *fixture {
	t.Helper()
	brokers := testkit.Brokers(t)
	conn := testkit.Kafka(brokers)
	topic := testkit.Unique("publish")
	testkit.CreateTopicWith(t, conn, topic, 3)
	_, reg := newRegistry(t)
	schema := userEventSchemaParsed(t)
	route := userEventsRoute(schema, topic)
	if edit != nil {
		edit(&route)
	}
	gw := startGateway(t, conn, reg, route)
	srv := httptest.NewServer(gw.Handler())
	t.Cleanup(srv.Close)
	return &fixture{url: srv.URL, brokers: brokers, topic: topic, registry: reg, schema: schema, gw: gw}
}

// response is an answer of the gateway.
type response struct {
	code   int
	header http.Header
	body   string
}

// post sends body to path with a content type (none when empty) and
// headers given as "Name: value".
func post(t testing.TB, url, contentType, body string, headers ...string) response {
	t.Helper()
	return request(t, http.MethodPost, url, contentType, body, headers...)
}

func request(t testing.TB, method, url, contentType, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// okAnswer is a 200's body.
type okAnswer struct {
	Records []struct {
		Partition int32 `json:"partition"`
		Offset    int64 `json:"offset"`
	} `json:"records"`
}

// errAnswer is an error's body.
type errAnswer struct {
	Error  string `json:"error"`
	Errors []struct {
		Index int    `json:"index"`
		Field string `json:"field"`
		Error string `json:"error"`
	} `json:"errors"`
	Acknowledged *int `json:"acknowledged"`
}

func decodeJSON[T any](t testing.TB, r response) T {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var v T
	if err := json.Unmarshal([]byte(r.body), &v); err != nil {
		t.Fatalf("answer %d %q: %v", r.code, r.body, err)
	}
	return v
}
