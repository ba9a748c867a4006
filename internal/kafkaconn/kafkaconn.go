// Package kafkaconn builds every Kafka client sluice creates from one
// Config: the bootstrap brokers, the client id, TLS and SASL. The pipelines
// (sarama through goka, see kafkaconn/kafkasarama), produce, consume, the dlq
// tools, the registry's Kafka store, topic administration and the test kit
// all connect through it, so a secured cluster (Confluent Cloud, MSK, Aiven,
// Redpanda Cloud) is configured once and works everywhere.
//
// Administration goes through franz-go's kadm (NewAdmin) and the few helpers
// of admin.go, instead of hand-built kmsg requests.
//
// It depends on the standard library, franz-go, processors/config and
// internal/tlsconf only — no sarama, goka or other sluice package — so that
// the registry and the dlq tools, which must not reach sarama, can use it.
// The rules are checked by TestImportRules (arch_test.go).
package kafkaconn

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/tlsconf"
)

// Config is how to reach and authenticate to a Kafka cluster.
type Config struct {
	// Brokers are the bootstrap brokers, host:port. Required.
	Brokers []string
	// ClientID names the client to the brokers (logs, quotas); empty keeps
	// the library's default.
	ClientID string
	// TLS encrypts the connections when enabled (SSL, SASL_SSL).
	TLS tlsconf.Config
	// SASL authenticates the connections when a mechanism is set
	// (SASL_PLAINTEXT, SASL_SSL).
	SASL SASL
}

// WithClientID returns c with another client id.
func (c Config) WithClientID(id string) Config {
	c.ClientID = id
	return c
}

// Validate reports what makes c unusable, without I/O beyond reading the
// configured certificate files.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("no Kafka brokers")
	}
	if err := c.SASL.Validate(); err != nil {
		return err
	}
	if _, err := c.TLS.Client(); err != nil {
		return err
	}
	return nil
}

// String describes c for logs and errors: brokers, protocol and SASL user,
// never a secret.
func (c Config) String() string {
	s := strings.Join(c.Brokers, ",") + " over " + c.Protocol()
	if c.SASL.Enabled() {
		s += " with " + c.SASL.String()
	}
	return s
}

// Protocol is Kafka's name of the security protocol c speaks: PLAINTEXT,
// SSL, SASL_PLAINTEXT or SASL_SSL.
func (c Config) Protocol() string {
	switch {
	case c.TLS.Enabled && c.SASL.Enabled():
		return "SASL_SSL"
	case c.TLS.Enabled:
		return "SSL"
	case c.SASL.Enabled():
		return "SASL_PLAINTEXT"
	}
	return "PLAINTEXT"
}

// Opts returns the franz-go options that connect a client as c says: seed
// brokers, client id, TLS dialer and SASL mechanism.
func (c Config) Opts() ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if c.ClientID != "" {
		opts = append(opts, kgo.ClientID(c.ClientID))
	}
	tlsCfg, err := c.TLS.Client()
	if err != nil {
		return nil, err
	}
	if tlsCfg != nil {
		// Without a server_name, franz-go checks each broker's certificate
		// against the host it dials.
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	if m := c.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// NewClient returns a franz-go client connected as c says, with extra
// options (consumer, producer settings) after c's.
func (c Config) NewClient(extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := c.Opts()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, fmt.Errorf("creating Kafka client: %w", err)
	}
	return cl, nil
}

// adminMetadataMinAge is how long an admin client trusts the metadata it
// cached: kadm answers from that cache, and a topic created a moment ago
// (by this process or another) must show soon.
const adminMetadataMinAge = 100 * time.Millisecond

// NewAdmin returns an admin client connected as c says. Closing it closes
// its connections.
func (c Config) NewAdmin(extra ...kgo.Opt) (*kadm.Client, error) {
	cl, err := c.NewClient(append([]kgo.Opt{kgo.MetadataMinAge(adminMetadataMinAge)}, extra...)...)
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// connectTimeout bounds Dial's first contact with the brokers.
const connectTimeout = 30 * time.Second

// Dial returns an admin client (see NewAdmin) that has connected and
// authenticated: an unreachable broker, a TLS problem or wrong credentials
// are an error here, within ctx and at most 30 seconds, naming the brokers,
// the protocol and the SASL user, never a secret.
func (c Config) Dial(ctx context.Context, extra ...kgo.Opt) (*kadm.Client, error) {
	adm, err := c.NewAdmin(extra...)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := Ping(ctx, adm); err != nil {
		adm.Close()
		return nil, fmt.Errorf("connecting to Kafka (%v): %w", c, err)
	}
	return adm, nil
}
