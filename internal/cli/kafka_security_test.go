package cli

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
)

// securityEnv is the value of the environment variable name that makes the
// CLI connect as conn says ("" for the others).
func securityEnv(conn kafkaconn.Config, name string) string {
	switch name {
	case envKafkaTLS:
		if conn.TLS.Enabled {
			return strconv.FormatBool(true)
		}
	case envKafkaCAFile:
		return conn.TLS.CAFile
	case envSASLMechanism:
		return conn.SASL.Mechanism
	case envSASLUsername:
		return conn.SASL.Username
	case envSASLPassword:
		return conn.SASL.Password
	}
	return ""
}

// runSecured runs the CLI with env as its whole environment.
func runSecured(t *testing.T, env map[string]string, stdin string, args ...string) cliResult {
	t.Helper()
	return runGetenv(t, func(k string) string { return env[k] }, stdin, args...)
}

// runGetenv runs the CLI with getenv as its environment, bounded by
// cliTimeout.
func runGetenv(t *testing.T, getenv func(string) string, stdin string, args ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
	defer cancel()
	var stdout, stderr syncBuffer
	code := runWithEnv(ctx, args, strings.NewReader(stdin), &stdout, &stderr, getenv)
	return cliResult{code, stdout.String(), stderr.String()}
}

// envWith is env, then the Kafka security settings of the test cluster
// (testkit.Kafka) for the variables env does not set.
func envWith(env map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return securityEnv(testkit.Kafka(nil), k)
	}
}

// TestKafkaSecurityFlagsAndEnv: produce and consume reach a SASL_SSL broker
// with the settings from the environment or from flags and a password
// file; a wrong password fails every command that takes --brokers, and no
// output ever shows a password.
func TestKafkaSecurityFlagsAndEnv(t *testing.T) {
	conn := testkit.SecureBroker(t, true, kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, Username: "sluice", Password: theSecret}, kfake.AllowAutoTopicCreation())
	brokers := strings.Join(conn.Brokers, ",")
	env := map[string]string{envBrokers: brokers}
	for _, name := range []string{envKafkaTLS, envKafkaCAFile, envSASLMechanism, envSASLUsername, envSASLPassword} {
		env[name] = securityEnv(conn, name)
	}
	shown := func(r cliResult) {
		t.Helper()
		if strings.Contains(r.stdout+r.stderr, theSecret) || strings.Contains(r.stdout+r.stderr, "wr0ng") {
			t.Errorf("a password was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
		}
	}

	r := runSecured(t, env, `{"n":1}`+"\n", "produce", "--topic", "secured", "--codec", "json")
	shown(r)
	if r.code != ExitOK {
		t.Fatalf("produce with the environment's settings: exit %d\n%s", r.code, r.stderr)
	}

	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(theSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runSecured(t, map[string]string{}, "", "consume", "--topic", "secured", "--from-beginning", "--max", "1", safety,
		"--brokers", brokers, "--kafka-ca-file", conn.TLS.CAFile,
		"--sasl-mechanism", "scram-sha-512", "--sasl-username", "sluice", "--sasl-password-file", pwFile)
	shown(r)
	if r.code != ExitOK || !strings.Contains(r.stdout, `"n":1`) {
		t.Fatalf("consume with flags: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}

	wrong := map[string]string{}
	for k, v := range env {
		wrong[k] = v
	}
	wrong[envSASLPassword] = "wr0ng-Pa55"
	connecting := "connecting to Kafka (" + brokers + " over SASL_SSL with SCRAM-SHA-512 (user sluice)): "
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"produce", "--topic", "secured", "--codec", "json"}, connecting},
		{[]string{"consume", "--topic", "secured", "--max", "1", safety}, connecting},
		{[]string{"dlq", "inspect", "--topic", "secured"}, "topic secured"},
		{[]string{"registry", "serve", "--addr", "127.0.0.1:0", "--topic", testkit.Unique("_schemas")}, connecting},
	} {
		t.Run(strings.Join(c.args[:2], " ")+" wrong password", func(t *testing.T) {
			start := time.Now()
			r := runSecured(t, wrong, `{"n":2}`+"\n", c.args...)
			shown(r)
			if r.code != ExitFailure || !strings.Contains(r.stderr, c.want) {
				t.Fatalf("exit %d with a wrong password, want %d with %q\nstderr: %s", r.code, ExitFailure, c.want, r.stderr)
			}
			t.Logf("exit %d after %v: %s", r.code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(r.stderr))
		})
	}

	// A password is never a flag's value.
	r = runSecured(t, env, "", "consume", "--topic", "secured", "--sasl-password", theSecret)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "unknown flag: --sasl-password") {
		t.Errorf("--sasl-password: exit %d\n%s", r.code, r.stderr)
	}

	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown mechanism", map[string]string{envSASLMechanism: "GSSAPI"}, nil, `unknown mechanism "GSSAPI"`},
		{"no username", map[string]string{envSASLMechanism: "PLAIN", envSASLPassword: theSecret}, nil, "PLAIN needs a username"},
		{"no password", map[string]string{envSASLMechanism: "PLAIN", envSASLUsername: "u"}, nil, "PLAIN needs a password"},
		{"missing password file", nil, []string{"--sasl-mechanism", "PLAIN", "--sasl-username", "u", "--sasl-password-file", filepath.Join(t.TempDir(), "none")}, "--sasl-password-file"},
		{"missing CA file", map[string]string{envKafkaCAFile: filepath.Join(t.TempDir(), "none")}, nil, "reading ca_file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runSecured(t, c.env, "", append([]string{"consume", "--topic", "t", "--brokers", brokers}, c.args...)...)
			shown(r)
			if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, want %d with %q:\n%s", r.code, ExitUsage, c.want, r.stderr)
			}
		})
	}
}

// TestRunKafkaPasswordHidden: `validate` of a file with a Kafka password
// does not print it, and `run` with a wrong one fails at start with an
// error and logs that do not show it.
func TestRunKafkaPasswordHidden(t *testing.T) {
	// The file connects to a broker of its own, not to the run's real one.
	for _, v := range []string{testkit.TLSVar, testkit.TLSCAFileVar, testkit.SASLMechanismVar} {
		t.Setenv(v, "")
	}
	conn := testkit.SecureBroker(t, false, kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA256, Username: "sluice", Password: "right-" + theSecret})
	file := secretsPipelines(t, "  brokers: "+strings.Join(conn.Brokers, ",")+"\n  sasl: {mechanism: SCRAM-SHA-256, username: sluice, password: '${KAFKA_PASSWORD}'}\n")
	env := map[string]string{"KAFKA_PASSWORD": theSecret}
	r := runSecured(t, env, "", "validate", "-f", file)
	if r.code != ExitOK || strings.Contains(r.stdout+r.stderr, theSecret) {
		t.Errorf("validate: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	r = runSecured(t, env, "", "run", "-f", file, "--registry", "http://127.0.0.1:1", "--log-level", "debug")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "SCRAM-SHA-256 (user sluice)") || strings.Contains(r.stdout+r.stderr, theSecret) {
		t.Errorf("run with a wrong password: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
}
