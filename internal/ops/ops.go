// Package ops serves a running sluice's operations endpoints: Prometheus
// metrics, liveness, readiness, pipeline status and table state queries;
// extensions (the HTTP publish gateway) serve beside them on the same
// server, their metrics in the same /metrics.
//
// It reads the pipelines through pipeline.Supervisor and must not import the
// CLI or the DLQ tooling.
// The rules are checked by TestImportRules (arch_test.go).
package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sluicehq/sluice/pipeline"
)

// Source is what the endpoints read; *pipeline.Supervisor implements it,
// and MetricsSource too.
type Source interface {
	Names() []string
	Counts(name string) (pipeline.Counts, bool)
	Status(ctx context.Context) []pipeline.Status
	State(name, key string) (map[string]any, error)
}

// MetricsSource is a Source whose pipelines keep metrics of their own
// (histograms, counters by label); /metrics serves them beside those read
// from Status.
type MetricsSource interface {
	Collector() prometheus.Collector
}

// Extension serves endpoints beside the operations endpoints, on the same
// server, with metrics of their own in /metrics; the HTTP publish gateway
// (*publish.Gateway) is one.
type Extension interface {
	// Mount adds the extension's endpoints to mux.
	Mount(mux *http.ServeMux)
	// Collector returns the extension's metrics.
	Collector() prometheus.Collector
}

// MetricsOnly is an Extension with metrics and no endpoints: the outbox
// relay's.
type MetricsOnly []prometheus.Collector

// Mount adds nothing.
func (MetricsOnly) Mount(*http.ServeMux) {}

// Collector returns m itself.
func (m MetricsOnly) Collector() prometheus.Collector { return m }

// Describe describes every collector of m.
func (m MetricsOnly) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m {
		c.Describe(ch)
	}
}

// Collect collects every collector of m.
func (m MetricsOnly) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m {
		c.Collect(ch)
	}
}

// Handler returns the operations endpoints of rt, and those of each
// extension.
func Handler(rt Source, exts ...Extension) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), newCollector(rt))
	if ms, ok := rt.(MetricsSource); ok {
		reg.MustRegister(ms.Collector())
	}
	mux := http.NewServeMux()
	for _, e := range exts {
		reg.MustRegister(e.Collector())
		e.Mount(mux)
	}
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		st := rt.Status(r.Context())
		code := http.StatusOK
		if !allReady(st) {
			code = http.StatusServiceUnavailable
		}
		writeJSON(w, code, map[string]any{"ready": code == http.StatusOK, "pipelines": st})
	})
	mux.HandleFunc("GET /pipelines", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, rt.Status(r.Context()))
	})
	mux.HandleFunc("GET /pipelines/{name}", func(w http.ResponseWriter, r *http.Request) {
		for _, s := range rt.Status(r.Context()) {
			if s.Name == r.PathValue("name") {
				writeJSON(w, http.StatusOK, s)
				return
			}
		}
		writeError(w, http.StatusNotFound, "unknown pipeline "+r.PathValue("name"))
	})
	mux.HandleFunc("GET /pipelines/{name}/state/{key}", func(w http.ResponseWriter, r *http.Request) {
		name, key := r.PathValue("name"), r.PathValue("key")
		state, err := rt.State(name, key)
		switch {
		case err == nil:
			writeJSON(w, http.StatusOK, state)
		case errors.Is(err, pipeline.ErrUnknownPipeline):
			writeError(w, http.StatusNotFound, "unknown pipeline "+name)
		case errors.Is(err, pipeline.ErrUnknownKey):
			writeError(w, http.StatusNotFound, "no state for key "+key+" in pipeline "+name)
		case errors.Is(err, pipeline.ErrStateless):
			writeError(w, http.StatusNotFound, "pipeline "+name+" keeps no state")
		case errors.Is(err, pipeline.ErrNotReady):
			writeError(w, http.StatusServiceUnavailable, err.Error())
		default:
			// Keys of partitions another instance owns land here too.
			writeError(w, http.StatusServiceUnavailable, err.Error())
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// allReady reports whether every pipeline of one status snapshot is ready,
// so that /readyz's code and body always agree.
func allReady(st []pipeline.Status) bool {
	for _, s := range st {
		if !s.Ready {
			return false
		}
	}
	return len(st) > 0
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// Serve runs the endpoints on addr until ctx is cancelled.
func Serve(ctx context.Context, addr string, h http.Handler, ready func(addr string)) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-errc
		return nil
	}
}
