package cli

import (
	"context"
	"log/slog"
	"time"

	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/internal/publish"
	"github.com/sluicehq/sluice/pipeline"
)

// publishCloseTimeout bounds how long a stopping run waits for the broker
// to take records of publish requests that were answered 503.
const publishCloseTimeout = 10 * time.Second

// newGateway returns the HTTP publish gateway of cfg's publish routes,
// connected to brokers (cfg's when empty) and the registry at registryURL
// (cfg's when empty); nil when cfg declares no route.
func newGateway(cfg *pipeline.Config, brokers []string, registryURL string, log *slog.Logger) (*publish.Gateway, error) {
	if len(cfg.Publish) == 0 {
		return nil, nil
	}
	if len(brokers) == 0 {
		brokers = cfg.Kafka.Brokers
	}
	reg, err := cfg.Registry.Client(registryURL)
	if err != nil {
		return nil, err
	}
	routes := make([]publish.Route, len(cfg.Publish))
	for i, r := range cfg.Publish {
		routes[i] = publish.Route{
			Path:         r.Path,
			Topic:        r.Topic,
			Schema:       r.Schema,
			KeyField:     r.KeyField,
			BearerToken:  r.BearerToken,
			MaxBodyBytes: r.MaxBodyBytes,
			Timeout:      r.Timeout,
		}
	}
	return publish.New(publish.Config{
		Kafka:           cfg.Kafka.Conn(brokers, cfg.Kafka.ClientID+"-publish"),
		Registry:        reg,
		SubjectStrategy: cfg.Registry.Strategy(),
		Partitioner:     cfg.Kafka.Partitioner,
		Routes:          routes,
		Logger:          log,
	})
}

// extensions returns what serves beside the operations endpoints.
func extensions(gw *publish.Gateway) []ops.Extension {
	if gw == nil {
		return nil
	}
	return []ops.Extension{gw}
}

// closeGateway flushes and closes gw (nil: none) after the server stopped.
func closeGateway(gw *publish.Gateway, log *slog.Logger) {
	if gw == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), publishCloseTimeout)
	defer cancel()
	if err := gw.Close(ctx); err != nil {
		log.Warn("publish gateway: records lost at shutdown", "error", err)
	}
}
