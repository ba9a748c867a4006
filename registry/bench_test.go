package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
)

// benchServer is a memory-store server holding userEventV1 and V2 under one subject.
func benchServer(b *testing.B) *registry.Server {
	b.Helper()
	srv := registry.NewServer(registry.NewMemoryStore())
	for _, s := range []string{userEventV1, userEventV2} {
		if code := serveOnce(srv, "POST", "/subjects/user-topic-value/versions", schemaBody(s)); code != 200 {
			b.Fatalf("registering: status %d", code)
		}
	}
	return srv
}

func serveOnce(h http.Handler, method, path, body string) int {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", srContentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Code
}

func benchRequest(b *testing.B, method, path, body string, want int) {
	srv := benchServer(b)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if code := serveOnce(srv, method, path, body); code != want {
			b.Fatalf("status %d, want %d", code, want)
		}
	}
}

// Registering an already registered schema with the same text: found by the
// text index (no parse), then by identity key in the subject.
func BenchmarkRegisterIdempotent(b *testing.B) {
	benchRequest(b, "POST", "/subjects/user-topic-value/versions", schemaBody(userEventV2), 200)
}

// A compatibility check against latest (parses both schemas, fresh checker).
func BenchmarkCheckCompatibility(b *testing.B) {
	benchRequest(b, "POST", "/compatibility/subjects/user-topic-value/versions/latest", schemaBody(userEventV3Bad), 200)
}

// What a deserializer asks for an unknown writer id.
func BenchmarkSchemaByID(b *testing.B) {
	benchRequest(b, "GET", "/schemas/ids/2", "", 200)
}

// Opening a Kafka store on a topic of 10,000 schema versions (embedded broker):
// reading the topic to its end and rebuilding the state.
func BenchmarkKafkaStoreOpen10k(b *testing.B) {
	brokers, topic := testkit.Brokers(b), testTopic()
	openKafkaStore(b, brokers, topic).Close()
	cl, err := kgo.NewClient(append(testkit.KafkaOpts(b, brokers), kgo.DefaultProduceTopic(topic))...)
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	const n = 10_000
	recs := make([]*kgo.Record, 0, n)
	for i := range n {
		subject := fmt.Sprintf("subject-%d", i/10)
		version := i%10 + 1
		value, _ := json.Marshal(map[string]any{"subject": subject, "version": version, "id": i + 1,
			"schema": rec(fld(fmt.Sprintf("f%d", i), `"int"`)), "deleted": false})
		recs = append(recs, &kgo.Record{
			Key:   []byte(fmt.Sprintf(`{"keytype":"SCHEMA","subject":%q,"version":%d,"magic":1}`, subject, version)),
			Value: value,
		})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s, err := registry.NewKafkaStore(context.Background(), registry.KafkaStoreConfig{Brokers: brokers, ClientOpts: testkit.KafkaOpts(b, brokers), Topic: topic})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkRegisterGrowth registers into a subject (default level BACKWARD)
// that already holds 1 or 1,000 versions; the two should cost the same.
// "new" registers a new version (parse, identity, compatibility with the
// latest version, write), then deletes it again outside the timer so the
// subject keeps its size; "existing" re-registers version 1 (idempotent).
func BenchmarkRegisterGrowth(b *testing.B) {
	const subject = "/subjects/growth-value"
	version := func(n int) string { // same size whatever n: only a default differs
		return rec(fld("a", `"string"`), fldd("n", `"int"`, strconv.Itoa(n)))
	}
	for _, size := range []int{1, 1000} {
		srv := registry.NewServer(registry.NewMemoryStore())
		for n := range size {
			if code := serveOnce(srv, "POST", subject+"/versions", schemaBody(version(n))); code != 200 {
				b.Fatalf("registering version %d: status %d", n+1, code)
			}
		}
		b.Run(fmt.Sprintf("new/versions=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			next := -1
			for b.Loop() {
				if code := serveOnce(srv, "POST", subject+"/versions", schemaBody(version(next))); code != 200 {
					b.Fatalf("registering: status %d", code)
				}
				next--
				b.StopTimer()
				added := fmt.Sprintf("%s/versions/%d", subject, size+1)
				if code := serveOnce(srv, "DELETE", added, ""); code != 200 {
					b.Fatalf("soft-deleting: status %d", code)
				}
				if code := serveOnce(srv, "DELETE", added+"?permanent=true", ""); code != 200 {
					b.Fatalf("deleting: status %d", code)
				}
				b.StartTimer()
			}
		})
		b.Run(fmt.Sprintf("existing/versions=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if code := serveOnce(srv, "POST", subject+"/versions", schemaBody(version(0))); code != 200 {
					b.Fatalf("registering: status %d", code)
				}
			}
		})
	}
}
