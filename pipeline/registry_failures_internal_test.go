package pipeline

import (
	"bytes"
	"context"
	"encoding/binary"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

// avroTesterConfig is one Avro pipeline that passes every event on as JSON.
const avroTesterConfig = `
version: 1
kafka: {brokers: tester}
pipelines:
  - name: events
    input: {topic: events, codec: avro, schema: SCHEMAS/user_event.avsc}
    dead_letter: events-dlq
    retry: {attempts: 2, initial_backoff: 5ms, max_backoff: 20ms}
    outputs:
      out: {topic: events-out, codec: json}
    steps:
      - emit: out
`

// Registry modes of TestRunnerRegistryAnswers' proxy.
const (
	proxyNoRoute   = iota // the proxy has no route for /registry: a bare 404 page
	proxyWrongPath        // it passes the path on unchanged: the registry's own 404 for an unknown endpoint
	proxyFixed            // it strips /registry: the registry answers
)

// TestRunnerRegistryAnswers: a registry URL that answers 404 without the
// registry's not-found code (a wrong path) says nothing about the message, so
// a good message is held, never dead-lettered, and processed once the URL
// works; the hold log names the registry (without its password) and the
// answer. An id the right registry does not know (40403) is poison at decode.
func TestRunnerRegistryAnswers(t *testing.T) {
	store := registry.NewServer(registry.NewMemoryStore())
	var mode atomic.Int32
	var asked atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		switch mode.Load() {
		case proxyNoRoute:
			http.NotFound(w, r)
		case proxyWrongPath:
			store.ServeHTTP(w, r)
		default:
			http.StripPrefix("/registry", store).ServeHTTP(w, r)
		}
	}))
	defer proxy.Close()
	direct := httptest.NewServer(store)
	defer direct.Close()

	// A good v2 event, framed with the id the registry gave its schema.
	client, err := regclient.New(regclient.Config{URL: direct.URL})
	if err != nil {
		t.Fatal(err)
	}
	schemas := codecs.NewSchemas()
	reader, err := schemas.ParseFile("../schemas/user_event.avsc")
	if err != nil {
		t.Fatal(err)
	}
	writer, err := codecs.NewAvro(client, schemas, reader, codecs.WithSubject("events", codecs.TopicNameStrategy))
	if err != nil {
		t.Fatal(err)
	}
	good, err := writer.Encode(map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 12.5, "ts": time.UnixMilli(1000), "country": "KR"})
	if err != nil {
		t.Fatal(err)
	}

	var logs testkit.LogBuffer
	registryURL := strings.Replace(proxy.URL, "http://", "http://alice:s3cret@", 1) + "/registry"
	tt, rt := runConfigWithTester(t, avroTesterConfig, Options{
		RegistryURL: registryURL,
		Logger:      slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	out, dlq := tt.NewQueueTracker("events-out"), tt.NewQueueTracker("events-dlq")

	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		tt.Consume("events", "u1", good) // returns once the message is processed
	}()
	waitFor(t, "the message to be held on a bare 404", func() bool {
		c, _ := rt.Counts("events")
		return c.Waiting && asked.Load() >= 3
	})
	mode.Store(proxyWrongPath)
	before := asked.Load()
	waitFor(t, "the message to stay held on the registry's 404 for a wrong path", func() bool {
		c, _ := rt.Counts("events")
		return c.Waiting && asked.Load() >= before+3
	})
	if c, _ := rt.Counts("events"); c.DeadLettered != 0 || c.Processed != 0 {
		t.Fatalf("counts while the registry URL was wrong: %+v", c)
	}
	mode.Store(proxyFixed)
	select {
	case <-consumed:
	case <-time.After(10 * time.Second):
		t.Fatal("the held message was not processed after the registry URL started working")
	}
	if _, v, ok := out.Next(); !ok || !strings.Contains(string(v.([]byte)), `"user_id":"u1"`) {
		t.Fatalf("output after the hold: %s %v", v, ok)
	}
	if _, _, _, ok := dlq.NextWithHeaders(); ok {
		t.Fatal("a good message was dead-lettered because of a wrong registry URL")
	}
	hold := logs.String()
	for _, want := range []string{"holding partition", proxy.URL + "/registry/schemas/ids/1", "404 Not Found", "404 page not found"} {
		if !strings.Contains(hold, want) {
			t.Errorf("hold log does not say %q:\n%s", want, hold)
		}
	}
	if strings.Contains(hold, "s3cret") || strings.Contains(hold, "alice") {
		t.Errorf("hold log shows the registry credentials:\n%s", hold)
	}

	// The right registry does not know id 4242: poison at decode.
	unknown := append([]byte{0, 0, 0, 0, 0}, good[5:]...)
	binary.BigEndian.PutUint32(unknown[1:], 4242)
	tt.Consume("events", "u2", unknown)
	h, key, v, ok := dlq.NextWithHeaders()
	if !ok || key != "u2" || !bytes.Equal(v.([]byte), unknown) {
		t.Fatalf("dead letter of an unknown id: %v %v %v", key, v, ok)
	}
	if string(h[deadletter.HeaderStage]) != deadletter.StageDecode || string(h[deadletter.HeaderKind]) != deadletter.KindPoison || !strings.Contains(string(h[deadletter.HeaderMessage]), "40403") {
		t.Errorf("dead letter headers of an unknown id: stage %s kind %s error %s", h[deadletter.HeaderStage], h[deadletter.HeaderKind], h[deadletter.HeaderMessage])
	}
	if c, _ := rt.Counts("events"); c.Consumed != 2 || c.Processed != 1 || c.DeadLettered != 1 || c.Waiting {
		t.Errorf("counts %+v, want 2 consumed, 1 processed, 1 dead-lettered", c)
	}
}

// waitFor polls cond until it holds, failing the test after 10s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
