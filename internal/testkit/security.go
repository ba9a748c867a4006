package testkit

import (
	"context"
	"crypto/tls"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/tlsconf"
)

// The security settings of the real cluster of $SLUICE_TEST_BROKERS, as
// scripts/kafka.sh start --sasl --tls prints them. Every client the kit
// makes, and every configuration KafkaYAML writes, uses them.
const (
	SASLMechanismVar = "SLUICE_TEST_KAFKA_SASL_MECHANISM"
	SASLUsernameVar  = "SLUICE_TEST_KAFKA_SASL_USERNAME"
	SASLPasswordVar  = "SLUICE_TEST_KAFKA_SASL_PASSWORD"
	// TLSVar turns TLS on ("true"); TLSCAFileVar, the PEM file of the CA
	// that signed the brokers' certificates, turns it on as well.
	TLSVar       = "SLUICE_TEST_KAFKA_TLS"
	TLSCAFileVar = "SLUICE_TEST_KAFKA_TLS_CA_FILE"
)

// Kafka returns how tests connect to brokers: on the real cluster of
// $SLUICE_TEST_BROKERS, with the security settings of the SLUICE_TEST_KAFKA_*
// variables; on an embedded broker, in plain text.
func Kafka(brokers []string) kafkaconn.Config {
	c := kafkaconn.Config{Brokers: brokers}
	if !External() {
		return c
	}
	ca := os.Getenv(TLSCAFileVar)
	on, _ := strconv.ParseBool(os.Getenv(TLSVar))
	if on || ca != "" {
		c.TLS = tlsconf.Config{Enabled: true, CAFile: ca}
	}
	if m := os.Getenv(SASLMechanismVar); m != "" {
		mech, _ := kafkaconn.NormalizeMechanism(m)
		c.SASL = kafkaconn.SASL{Mechanism: mech, Username: os.Getenv(SASLUsernameVar), Password: os.Getenv(SASLPasswordVar)}
	}
	return c
}

// KafkaOpts returns the franz-go options that connect to brokers as Kafka
// says; a bad security setting fails the test.
func KafkaOpts(t testing.TB, brokers []string) []kgo.Opt {
	t.Helper()
	opts, err := Kafka(brokers).Opts()
	if err != nil {
		t.Fatalf("kafka settings: %v", err)
	}
	return opts
}

// KafkaYAML returns the `tls:` and `sasl:` entries, indented by two spaces
// to sit under `kafka:`, that make a pipelines.yaml connect as Kafka says
// to the real cluster; "" on an embedded broker.
func KafkaYAML() string {
	return SecurityYAML(Kafka(nil), "  ")
}

// SecurityYAML returns c's `tls:` and `sasl:` entries, each line starting
// with indent; "" when c has neither.
func SecurityYAML(c kafkaconn.Config, indent string) string {
	var b strings.Builder
	if c.TLS.Enabled {
		b.WriteString(indent + "tls: {enabled: true")
		if c.TLS.CAFile != "" {
			b.WriteString(", ca_file: " + strconv.Quote(c.TLS.CAFile))
		}
		b.WriteString("}\n")
	}
	if s := c.SASL; s.Enabled() {
		b.WriteString(indent + "sasl: {mechanism: " + s.Mechanism)
		b.WriteString(", username: " + strconv.Quote(s.Username) + ", password: " + strconv.Quote(s.Password) + "}\n")
	}
	return b.String()
}

// SecureBroker starts an embedded kfake broker, closed when the test ends,
// that speaks TLS when withTLS (a certificate for 127.0.0.1 and localhost
// signed by a fresh CA, which the returned config trusts) and requires
// SASL when sasl has a mechanism (sasl's user, a superuser; PLAIN or
// SCRAM). It returns how clients connect to it.
func SecureBroker(t testing.TB, withTLS bool, sasl kafkaconn.SASL, opts ...kfake.Opt) kafkaconn.Config {
	t.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)
	var c kafkaconn.Config
	if withTLS {
		caFile, server := TLSFiles(t)
		opts = append(opts, kfake.TLS(server))
		c.TLS = tlsconf.Config{Enabled: true, CAFile: caFile}
	}
	if sasl.Enabled() {
		opts = append(opts, kfake.EnableSASL(), kfake.Superuser(sasl.Mechanism, sasl.Username, sasl.Password))
		c.SASL = sasl
	}
	cluster, err := kfake.NewCluster(opts...)
	if err != nil {
		t.Fatalf("starting kfake: %v", err)
	}
	t.Cleanup(cluster.Close)
	c.Brokers = cluster.ListenAddrs()
	return c
}

// TLSFiles makes a self-signed certificate for 127.0.0.1 and localhost
// (SelfSignedCert) and returns its PEM file, a client's CA file, and the
// server's TLS configuration.
func TLSFiles(t testing.TB) (caFile string, server *tls.Config) {
	t.Helper()
	certFile, keyFile := SelfSignedCert(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
}

// CreateTopicWith is CreateTopic on the cluster conn connects to.
func CreateTopicWith(t testing.TB, conn kafkaconn.Config, topic string, partitions int) {
	t.Helper()
	adm, err := conn.NewAdmin()
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := kafkaconn.CreateTopic(ctx, adm, topic, int32(partitions), 1, nil); err != nil {
		t.Fatalf("creating topic %s: %v", topic, err)
	}
}

// SecureConfig returns the pipelines.yaml text src with KafkaYAML's entries
// added at the top of its `kafka:` block, so that a configuration a test
// writes connects to the real cluster as every other client does.
func SecureConfig(src string) string {
	y := KafkaYAML()
	if y == "" {
		return src
	}
	if strings.HasPrefix(src, "kafka:\n") {
		return "kafka:\n" + y + src[len("kafka:\n"):]
	}
	return strings.Replace(src, "\nkafka:\n", "\nkafka:\n"+y, 1)
}

// CLIEnv returns the environment ("NAME=value") that makes the sluice
// commands, and the reference pipelines.yaml, connect as c says: the
// variables of the CLI's TLS and SASL settings.
func CLIEnv(c kafkaconn.Config) []string {
	var env []string
	if c.TLS.Enabled {
		env = append(env, "SLUICE_KAFKA_TLS=true", "SLUICE_KAFKA_CA_FILE="+c.TLS.CAFile)
	}
	if s := c.SASL; s.Enabled() {
		env = append(env, "SLUICE_SASL_MECHANISM="+s.Mechanism, "SLUICE_SASL_USERNAME="+s.Username, "SLUICE_SASL_PASSWORD="+s.Password)
	}
	return env
}
