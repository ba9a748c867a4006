package cli

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors/config"
	"github.com/sluicehq/sluice/registry/regclient"
)

// Defaults of the connection flags shared by produce and consume; the
// environment variables win over them.
const (
	envBrokers      = "SLUICE_BROKERS"
	envRegistryURL  = "SLUICE_REGISTRY_URL"
	defaultBrokers  = "127.0.0.1:9092"
	defaultRegistry = "http://127.0.0.1:8081"
)

// connFlags are the connection flags of the commands that talk to Kafka and
// the schema registry directly.
type connFlags struct {
	brokers  string
	registry string
	regAuth  registryAuthFlags
	kafkaSec kafkaSecurityFlags
}

// addConnFlags registers --brokers, --registry and the --registry-* flags.
// Their defaults come from the environment when the command runs (see
// resolveConn).
func (a *app) addConnFlags(cmd *cobra.Command, f *connFlags) {
	cmd.Flags().StringVar(&f.brokers, "brokers", "",
		"comma-separated Kafka bootstrap brokers (default $"+envBrokers+", then "+defaultBrokers+")")
	cmd.Flags().StringVar(&f.registry, "registry", "",
		"schema registry URL (default $"+envRegistryURL+", then "+defaultRegistry+")")
	addRegistryAuthFlags(cmd.Flags(), &f.regAuth)
	addKafkaSecurityFlags(cmd, &f.kafkaSec)
}

// resolveConn fills in the connection flags that were not given.
func (a *app) resolveConn(f *connFlags) {
	if strings.TrimSpace(f.brokers) == "" {
		f.brokers = a.envOr(envBrokers, defaultBrokers)
	}
	if strings.TrimSpace(f.registry) == "" {
		f.registry = a.envOr(envRegistryURL, defaultRegistry)
	}
	f.regAuth.resolve(a.getenv)
	f.kafkaSec.resolve(a.getenv)
}

// seedBrokers splits the --brokers list.
func (f *connFlags) seedBrokers() ([]string, error) {
	seeds := config.SplitList(f.brokers)
	if len(seeds) == 0 {
		return nil, usagef("--brokers: no broker address in %q", f.brokers)
	}
	if err := pipeline.CheckBrokers(seeds); err != nil {
		return nil, usagef("--brokers: %v", err)
	}
	return seeds, nil
}

// kafka returns how to connect to the --brokers list, with the TLS and SASL
// flags.
func (f *connFlags) kafka() (kafkaconn.Config, error) {
	seeds, err := f.seedBrokers()
	if err != nil {
		return kafkaconn.Config{}, err
	}
	t, s, err := f.kafkaSec.config()
	if err != nil {
		return kafkaconn.Config{}, err
	}
	return kafkaconn.Config{Brokers: seeds, TLS: t, SASL: s}, nil
}

// newKafkaClient builds a franz-go client on the --brokers list.
func (f *connFlags) newKafkaClient(opts ...kgo.Opt) (*kgo.Client, error) {
	k, err := f.kafka()
	if err != nil {
		return nil, err
	}
	return k.NewClient(opts...)
}

// dialKafka returns an admin client connected to the --brokers list: an
// unreachable broker or refused credentials are an error here.
func (f *connFlags) dialKafka(ctx context.Context, opts ...kgo.Opt) (*kadm.Client, error) {
	k, err := f.kafka()
	if err != nil {
		return nil, err
	}
	return k.Dial(ctx, opts...)
}

// newRegistryClient returns a schema registry client for --registry and the
// --registry-* settings. It reads their files, and does no other I/O until
// a schema is needed.
func (f *connFlags) newRegistryClient() (*regclient.Client, error) {
	if strings.TrimSpace(f.registry) == "" {
		return nil, usagef("--registry: empty URL")
	}
	return f.regAuth.registryClient(pipeline.Registry{}, f.registry)
}

// metadataTimeout bounds the first metadata request, which is where an
// unreachable broker shows up.
const metadataTimeout = 15 * time.Second

// topicExists asks the cluster whether topic exists. It fails when the
// brokers cannot be reached (or refuse the credentials), so that the
// commands do not wait silently. An admin client made with
// kgo.AllowAutoTopicCreation asks the broker to create the topic (when it
// allows that).
func topicExists(ctx context.Context, adm *kadm.Client, topic string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	_, err := kafkaconn.Partitions(ctx, adm, topic)
	switch {
	case errors.Is(err, kafkaconn.ErrNoTopic):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// topicExistsSoon is topicExists with auto-creation requested, asked a few
// times over about two seconds: a real broker creates topics asynchronously,
// so a topic created a moment ago may not show in metadata yet.
func (f *connFlags) topicExistsSoon(ctx context.Context, topic string) (bool, error) {
	adm, err := f.dialKafka(ctx, kgo.AllowAutoTopicCreation())
	if err != nil {
		return false, err
	}
	defer adm.Close()
	for attempt := 0; ; attempt++ {
		ok, err := topicExists(ctx, adm, topic)
		if err != nil || ok || attempt == 7 {
			return ok, err
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
