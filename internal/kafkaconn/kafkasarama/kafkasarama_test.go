package kafkasarama_test

import (
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/kafkaconn/kafkasarama"
	"github.com/sluicehq/sluice/internal/testkit"
)

const secret = "s3cret-Pa55word"

func saramaConfig(t *testing.T, conn kafkaconn.Config) *sarama.Config {
	t.Helper()
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Metadata.Retry.Max = 1
	cfg.Metadata.Retry.Backoff = 50 * time.Millisecond
	cfg.Producer.Return.Successes = true
	if err := kafkasarama.Apply(cfg, conn); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestApply: sarama, configured by Apply, produces on brokers that require
// SCRAM, TLS or both, exactly as the franz-go clients do.
func TestApply(t *testing.T) {
	for _, c := range []struct {
		name string
		tls  bool
		mech string
	}{
		{"SCRAM-SHA-512", false, kafkaconn.ScramSHA512},
		{"TLS", true, ""},
		{"TLS and SCRAM-SHA-256", true, kafkaconn.ScramSHA256},
		{"TLS and PLAIN", true, kafkaconn.Plain},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s kafkaconn.SASL
			if c.mech != "" {
				s = kafkaconn.SASL{Mechanism: c.mech, Username: "sluice", Password: secret}
			}
			conn := testkit.SecureBroker(t, c.tls, s)
			testkit.CreateTopicWith(t, conn, "t", 1)
			p, err := sarama.NewSyncProducer(conn.Brokers, saramaConfig(t, conn))
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "t", Value: sarama.StringEncoder("v")}); err != nil {
				t.Fatalf("producing: %v", err)
			}
		})
	}
}

// TestApplyWrongPassword: a wrong password is an error that does not show it.
func TestApplyWrongPassword(t *testing.T) {
	conn := testkit.SecureBroker(t, true, kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, Username: "sluice", Password: secret})
	const wrong = "wr0ng-Pa55word"
	conn.SASL.Password = wrong
	cl, err := sarama.NewClient(conn.Brokers, saramaConfig(t, conn))
	if err == nil {
		cl.Close()
		t.Fatal("a wrong password connected")
	}
	for _, s := range []string{wrong, secret} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error %q shows a password", err)
		}
	}
}

// TestApplyOAuthBearer: OAUTHBEARER's token provider reads the token file
// at each authentication.
func TestApplyOAuthBearer(t *testing.T) {
	cfg := sarama.NewConfig()
	conn := kafkaconn.Config{Brokers: []string{"127.0.0.1:1"}, SASL: kafkaconn.SASL{Mechanism: kafkaconn.OAuthBearer, Token: "tok"}}
	if err := kafkasarama.Apply(cfg, conn); err != nil {
		t.Fatal(err)
	}
	tok, err := cfg.Net.SASL.TokenProvider.Token()
	if err != nil || tok.Token != "tok" || !cfg.Net.SASL.Enable || cfg.Net.SASL.Mechanism != sarama.SASLTypeOAuth {
		t.Fatalf("token %+v, %v; sasl %+v", tok, err, cfg.Net.SASL)
	}
	if err := kafkasarama.Apply(sarama.NewConfig(), kafkaconn.Config{SASL: kafkaconn.SASL{Mechanism: "GSSAPI"}}); err == nil {
		t.Fatal("no error for an unknown mechanism")
	}
}
