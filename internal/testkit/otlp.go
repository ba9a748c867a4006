package testkit

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// OTLPCollector is an OTLP/HTTP trace receiver on a loopback port: it
// decodes each ExportTraceServiceRequest (protobuf, gzipped or not) posted
// to /v1/traces and keeps its spans.
type OTLPCollector struct {
	srv *httptest.Server

	mu        sync.Mutex
	spans     []CollectedSpan
	badBodies []string
}

// CollectedSpan is a span as the collector received it, with its resource's
// service.name.
type CollectedSpan struct {
	Service string
	Span    *tracepb.Span
}

// NewOTLPCollector starts a collector that stops when the test ends.
func NewOTLPCollector(t testing.TB) *OTLPCollector {
	t.Helper()
	c := &OTLPCollector{}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", c.export)
	c.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		c.srv.Close()
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, b := range c.badBodies {
			t.Errorf("OTLP collector: %s", b)
		}
	})
	return c
}

// URL is the collector's base URL, for OTEL_EXPORTER_OTLP_ENDPOINT.
func (c *OTLPCollector) URL() string { return c.srv.URL }

// Spans returns the spans received so far, in the order they came.
func (c *OTLPCollector) Spans() []CollectedSpan {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]CollectedSpan(nil), c.spans...)
}

func (c *OTLPCollector) export(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			c.reject(w, "gzip: "+err.Error())
			return
		}
		defer zr.Close()
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		c.reject(w, "reading the request: "+err.Error())
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		c.reject(w, "content type "+ct+", want application/x-protobuf")
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &req); err != nil {
		c.reject(w, "decoding ExportTraceServiceRequest: "+err.Error())
		return
	}
	c.mu.Lock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, CollectedSpan{Service: service, Span: s})
			}
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// reject answers 400 and fails the test when it ends: the exporter sent
// something an OTLP collector would not take.
func (c *OTLPCollector) reject(w http.ResponseWriter, why string) {
	c.mu.Lock()
	c.badBodies = append(c.badBodies, why)
	c.mu.Unlock()
	http.Error(w, why, http.StatusBadRequest)
}
