package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
)

// Run produces UserEvents, in rounds paced by the rate, until ctx is
// cancelled, and then returns nil.
func TestRunProducesUntilCancelled(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("demo")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	reader, err := codecs.NewSchemas().ParseFile("../../schemas/user_event.avsc")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		k := testkit.Kafka(env.Brokers())
		done <- demo.Run(ctx, demo.Config{Brokers: env.Brokers(), TLS: k.TLS, SASL: k.SASL, RegistryURL: env.RegistryURL(),
			Topic: topic, Reader: reader, Rate: 200, Seed: 1})
	}()
	testkit.ReadAll(t, env.Brokers(), topic, 60, time.Minute) // three rounds or more
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run after cancel = %v, want nil", err)
	}
}

func TestRunNeedsARate(t *testing.T) {
	if err := demo.Run(t.Context(), demo.Config{Rate: 0}); err == nil {
		t.Fatal("Run with rate 0 = nil, want an error")
	}
}
