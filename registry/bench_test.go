package registry_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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

// Registering an already registered schema: parse, normalise, find, answer.
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
