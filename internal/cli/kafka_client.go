package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/sluicehq/sluice/internal/conf"
	"github.com/sluicehq/sluice/pipeline"
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
}

// seedBrokers splits the --brokers list.
func (f *connFlags) seedBrokers() ([]string, error) {
	seeds := conf.SplitList(f.brokers)
	if len(seeds) == 0 {
		return nil, usagef("--brokers: no broker address in %q", f.brokers)
	}
	if err := pipeline.CheckBrokers(seeds); err != nil {
		return nil, usagef("--brokers: %v", err)
	}
	return seeds, nil
}

// newKafkaClient builds a franz-go client on the --brokers list.
func (f *connFlags) newKafkaClient(opts ...kgo.Opt) (*kgo.Client, error) {
	seeds, err := f.seedBrokers()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(seeds...)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("creating kafka client: %w", err)
	}
	return cl, nil
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

// topicExists asks the cluster about topic, letting the broker auto-create
// it when autoCreate is set (and the broker allows it). It fails when the
// brokers cannot be reached, so that the commands do not wait silently.
// topicExistsSoon is topicExists with auto-creation requested, asked a few
// times over about two seconds: a real broker creates topics asynchronously,
// so a topic created a moment ago may not show in metadata yet.
func topicExistsSoon(ctx context.Context, cl *kgo.Client, topic string) (bool, error) {
	for attempt := 0; ; attempt++ {
		ok, err := topicExists(ctx, cl, topic, true)
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

func topicExists(ctx context.Context, cl *kgo.Client, topic string, autoCreate bool) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	req := kmsg.NewPtrMetadataRequest()
	req.AllowAutoTopicCreation = autoCreate
	rt := kmsg.NewMetadataRequestTopic()
	rt.Topic = kmsg.StringPtr(topic)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return false, fmt.Errorf("asking the brokers about topic %s: %w", topic, err)
	}
	for _, t := range resp.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		switch err := kerr.ErrorForCode(t.ErrorCode); {
		case err == nil, errors.Is(err, kerr.LeaderNotAvailable): // being created
			return true, nil
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return false, nil
		default:
			return false, fmt.Errorf("topic %s: %w", topic, err)
		}
	}
	return false, nil
}
