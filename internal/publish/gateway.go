package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/partition"
)

// Route is one publish endpoint: POST Path takes records of Schema and
// produces them to Topic.
type Route struct {
	Path  string
	Topic string
	// Schema is the Avro record schema every record must match; it is
	// registered under the subject of Topic (Config.SubjectStrategy).
	Schema avro.Schema
	// KeyField names the top-level field whose value keys the record;
	// empty produces records without a key.
	KeyField string
	// BearerToken, when not empty, must come in "Authorization: Bearer".
	BearerToken string
	// MaxBodyBytes bounds the request body (413 beyond it).
	MaxBodyBytes int64
	// Timeout bounds the wait for the registry and the broker (503 beyond it).
	Timeout time.Duration
}

// Config is what a Gateway needs.
type Config struct {
	// Kafka is how to reach the brokers.
	Kafka kafkaconn.Config
	// Registry is the schema registry client (a *regclient.Client).
	Registry codecs.Registry
	// SubjectStrategy names the subjects the route schemas register under.
	SubjectStrategy codecs.SubjectStrategy
	// Partitioner maps keys to partitions like the pipelines do (murmur2,
	// fnv1a or crc32; empty is murmur2).
	Partitioner string
	Routes      []Route
	// Logger takes the failures answered 5xx; nil discards them.
	Logger *slog.Logger
}

// RetryAfter is the Retry-After of a 503: how long a client should wait
// before trying again when the registry or the broker did not answer.
const RetryAfter = 2 * time.Second

// Gateway serves the publish routes with one Kafka producer. It is safe for
// concurrent use; Close it when the server stopped.
type Gateway struct {
	cl      *kgo.Client
	routes  []*route
	metrics *metrics
	log     *slog.Logger
}

// New checks cfg and returns a Gateway. It does no I/O: the producer
// connects and the schemas register at the first request.
func New(cfg Config) (*Gateway, error) {
	if len(cfg.Routes) == 0 {
		return nil, errors.New("publish gateway: no routes")
	}
	if cfg.Registry == nil {
		return nil, errors.New("publish gateway: no schema registry client")
	}
	name := cfg.Partitioner
	if name == "" {
		name = "murmur2"
	}
	part, err := partition.NewPartitioner(name)
	if err != nil {
		return nil, fmt.Errorf("publish gateway: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g := &Gateway{metrics: newMetrics(), log: log}
	schemas := codecs.NewSchemas()
	seen := map[string]bool{}
	for _, r := range cfg.Routes {
		rt, err := newRoute(g, r, cfg, schemas)
		if err != nil {
			return nil, err
		}
		if seen[r.Path] {
			return nil, fmt.Errorf("publish gateway: path %s declared twice", r.Path)
		}
		seen[r.Path] = true
		g.routes = append(g.routes, rt)
		g.metrics.init(r.Path)
	}
	g.cl, err = cfg.Kafka.NewClient(
		kgo.RequiredAcks(kgo.AllISRAcks()), // idempotent writes are kgo's default; they need acks=all
		kgo.RecordPartitioner(part),
		// A request waits for its records: send them at once rather
		// than linger for more (records still batch while a produce
		// request is in flight).
		kgo.ProducerLinger(0),
	)
	if err != nil {
		return nil, fmt.Errorf("publish gateway: %w", err)
	}
	return g, nil
}

func newRoute(g *Gateway, r Route, cfg Config, schemas *codecs.Schemas) (*route, error) {
	switch {
	case r.Path == "" || r.Path[0] != '/':
		return nil, fmt.Errorf("publish gateway: route path %q does not start with /", r.Path)
	case r.Topic == "":
		return nil, fmt.Errorf("publish gateway: route %s has no topic", r.Path)
	case r.MaxBodyBytes < 1:
		return nil, fmt.Errorf("publish gateway: route %s: max body bytes must be positive", r.Path)
	case r.Timeout <= 0:
		return nil, fmt.Errorf("publish gateway: route %s: timeout must be positive", r.Path)
	}
	rec, ok := r.Schema.(*avro.RecordSchema)
	if !ok {
		return nil, fmt.Errorf("publish gateway: route %s: the schema must be an Avro record", r.Path)
	}
	if r.KeyField != "" && !hasField(rec, r.KeyField) {
		return nil, fmt.Errorf("publish gateway: route %s: key field %q is not a field of %s", r.Path, r.KeyField, rec.FullName())
	}
	codec, err := codecs.NewAvro(cfg.Registry, schemas, r.Schema, codecs.WithSubject(r.Topic, cfg.SubjectStrategy))
	if err != nil {
		return nil, fmt.Errorf("publish gateway: route %s: %w", r.Path, err)
	}
	return &route{Route: r, g: g, codec: codec, schemaName: rec.FullName()}, nil
}

func hasField(rec *avro.RecordSchema, name string) bool {
	for _, f := range rec.Fields() {
		if f.Name() == name {
			return true
		}
	}
	return false
}

// Mount adds the routes to mux, each on its path for every method (a method
// other than POST gets 405).
func (g *Gateway) Mount(mux *http.ServeMux) {
	for _, rt := range g.routes {
		mux.Handle(rt.Path, rt)
	}
}

// Handler returns the routes alone, on a mux that answers 404 in JSON to
// any other path.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	g.Mount(mux)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return mux
}

// Collector returns the gateway's metrics: sluice_publish_requests_total,
// sluice_publish_records_total and sluice_publish_request_duration_seconds.
func (g *Gateway) Collector() prometheus.Collector { return g.metrics }

// Paths returns the route paths, in configuration order.
func (g *Gateway) Paths() []string {
	out := make([]string, len(g.routes))
	for i, rt := range g.routes {
		out[i] = rt.Path
	}
	return out
}

// Close waits, within ctx, for records still unacknowledged (requests
// answered 503 leave some behind) and closes the producer.
func (g *Gateway) Close(ctx context.Context) error {
	err := g.cl.Flush(ctx)
	g.cl.Close()
	if err != nil {
		return fmt.Errorf("publish gateway: flushing records: %w", err)
	}
	return nil
}
