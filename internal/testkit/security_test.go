package testkit_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
)

// TestKafkaSecurityFromEnv: on a real cluster the SLUICE_TEST_KAFKA_*
// variables secure every client, pipelines file and CLI environment the kit
// makes; on the embedded broker they are ignored.
func TestKafkaSecurityFromEnv(t *testing.T) {
	t.Setenv(testkit.TLSCAFileVar, "/ca.pem")
	t.Setenv(testkit.TLSVar, "")
	t.Setenv(testkit.SASLMechanismVar, "scram-sha-512")
	t.Setenv(testkit.SASLUsernameVar, "u")
	t.Setenv(testkit.SASLPasswordVar, "p%w")

	t.Setenv(testkit.BrokersVar, "")
	if k := testkit.Kafka([]string{"b:1"}); k.TLS.Enabled || k.SASL.Enabled() || testkit.KafkaYAML() != "" {
		t.Fatalf("embedded broker: %+v", k)
	}

	t.Setenv(testkit.BrokersVar, "b:1")
	k := testkit.Kafka([]string{"b:1"})
	if !k.TLS.Enabled || k.TLS.CAFile != "/ca.pem" || k.SASL.Mechanism != kafkaconn.ScramSHA512 || k.SASL.Username != "u" || k.SASL.Password != "p%w" {
		t.Fatalf("real cluster: %+v %+v", k.TLS, k.SASL)
	}
	src := testkit.SecureConfig("version: 1\nkafka:\n  brokers: b:1\n")
	want := "version: 1\nkafka:\n  tls: {enabled: true, ca_file: \"/ca.pem\"}\n  sasl: {mechanism: SCRAM-SHA-512, username: \"u\", password: \"p%w\"}\n  brokers: b:1\n"
	if src != want {
		t.Errorf("SecureConfig:\n%s\nwant:\n%s", src, want)
	}
	env := testkit.CLIEnv(k)
	for _, v := range []string{"SLUICE_KAFKA_TLS=true", "SLUICE_KAFKA_CA_FILE=/ca.pem", "SLUICE_SASL_MECHANISM=SCRAM-SHA-512", "SLUICE_SASL_USERNAME=u", "SLUICE_SASL_PASSWORD=p%w"} {
		if !slices.Contains(env, v) {
			t.Errorf("CLIEnv %s lacks %s", strings.Join(env, " "), v)
		}
	}
}
