package cli

import (
	"bytes"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/tlsconf"
)

// Environment variables of the Kafka security settings of the commands that
// take --brokers; a flag wins over its variable. Secrets come from the
// environment or a file only, never from a flag's value, which `ps` shows.
const (
	envKafkaTLS         = "SLUICE_KAFKA_TLS"
	envKafkaCAFile      = "SLUICE_KAFKA_CA_FILE"
	envKafkaCertFile    = "SLUICE_KAFKA_CERT_FILE"
	envKafkaKeyFile     = "SLUICE_KAFKA_KEY_FILE"
	envKafkaServerName  = "SLUICE_KAFKA_SERVER_NAME"
	envKafkaInsecure    = "SLUICE_KAFKA_INSECURE_SKIP_VERIFY"
	envSASLMechanism    = "SLUICE_SASL_MECHANISM"
	envSASLUsername     = "SLUICE_SASL_USERNAME"
	envSASLPassword     = "SLUICE_SASL_PASSWORD"
	envSASLPasswordFile = "SLUICE_SASL_PASSWORD_FILE"
	envSASLToken        = "SLUICE_SASL_TOKEN"
	envSASLTokenFile    = "SLUICE_SASL_TOKEN_FILE"
)

// kafkaSecurityFlags are the TLS and SASL flags; resolve fills in what the
// environment gives.
type kafkaSecurityFlags struct {
	tls                     bool
	caFile, certFile        string
	keyFile, serverName     string
	insecure                bool
	mechanism, username     string
	passwordFile, tokenFile string
	password, token         string // from the environment only
}

// addKafkaSecurityFlags registers the TLS and SASL flags of cmd.
func addKafkaSecurityFlags(cmd *cobra.Command, f *kafkaSecurityFlags) {
	fl := cmd.Flags()
	fl.BoolVar(&f.tls, "kafka-tls", false, "connect to the brokers over TLS (default $"+envKafkaTLS+"; implied by the file flags below)")
	fl.StringVar(&f.caFile, "kafka-ca-file", "", "PEM bundle of the CAs that sign the brokers' certificates (default $"+envKafkaCAFile+", then the system's)")
	fl.StringVar(&f.certFile, "kafka-cert-file", "", "PEM client certificate for mutual TLS (default $"+envKafkaCertFile+")")
	fl.StringVar(&f.keyFile, "kafka-key-file", "", "PEM key of --kafka-cert-file (default $"+envKafkaKeyFile+")")
	fl.StringVar(&f.serverName, "kafka-server-name", "", "name to check in the brokers' certificates (default $"+envKafkaServerName+", then the host dialled)")
	fl.BoolVar(&f.insecure, "kafka-insecure-skip-verify", false, "accept any broker certificate; for tests only (default $"+envKafkaInsecure+")")
	fl.StringVar(&f.mechanism, "sasl-mechanism", "", "SASL mechanism: "+strings.Join(kafkaconn.Mechanisms(), ", ")+" (default $"+envSASLMechanism+")")
	fl.StringVar(&f.username, "sasl-username", "", "SASL username (default $"+envSASLUsername+")")
	fl.StringVar(&f.passwordFile, "sasl-password-file", "", "file holding the SASL password (default $"+envSASLPassword+", then the file $"+envSASLPasswordFile+")")
	fl.StringVar(&f.tokenFile, "sasl-token-file", "", "file holding the OAUTHBEARER token, re-read at each authentication (default $"+envSASLToken+", then the file $"+envSASLTokenFile+")")
}

// resolve fills in the settings the flags did not give from the environment.
func (f *kafkaSecurityFlags) resolve(getenv func(string) string) {
	or := func(v *string, env string) {
		if strings.TrimSpace(*v) == "" {
			*v = getenv(env)
		}
	}
	on := func(v *bool, env string) {
		if !*v {
			*v, _ = strconv.ParseBool(getenv(env))
		}
	}
	on(&f.tls, envKafkaTLS)
	or(&f.caFile, envKafkaCAFile)
	or(&f.certFile, envKafkaCertFile)
	or(&f.keyFile, envKafkaKeyFile)
	or(&f.serverName, envKafkaServerName)
	on(&f.insecure, envKafkaInsecure)
	or(&f.mechanism, envSASLMechanism)
	or(&f.username, envSASLUsername)
	if f.passwordFile == "" {
		f.password = getenv(envSASLPassword)
		if f.password == "" {
			f.passwordFile = getenv(envSASLPasswordFile)
		}
	}
	if f.tokenFile == "" {
		f.token = getenv(envSASLToken)
		if f.token == "" {
			f.tokenFile = getenv(envSASLTokenFile)
		}
	}
}

// config returns the TLS and SASL settings. Errors name flags and files,
// never a secret.
func (f *kafkaSecurityFlags) config() (tlsconf.Config, kafkaconn.SASL, error) {
	t := tlsconf.Config{
		Enabled:            f.tls || f.caFile != "" || f.certFile != "" || f.keyFile != "" || f.serverName != "" || f.insecure,
		CAFile:             f.caFile,
		CertFile:           f.certFile,
		KeyFile:            f.keyFile,
		ServerName:         f.serverName,
		InsecureSkipVerify: f.insecure,
	}
	s := kafkaconn.SASL{Username: f.username, Password: f.password, Token: f.token, TokenFile: f.tokenFile}
	if f.mechanism != "" {
		m, ok := kafkaconn.NormalizeMechanism(f.mechanism)
		if !ok {
			return t, s, usagef("--sasl-mechanism: unknown mechanism %q (%s)", f.mechanism, strings.Join(kafkaconn.Mechanisms(), ", "))
		}
		s.Mechanism = m
	}
	if f.passwordFile != "" {
		b, err := os.ReadFile(f.passwordFile)
		if err != nil {
			return t, s, usagef("--sasl-password-file: %v", err)
		}
		s.Password = string(bytes.TrimRight(b, "\r\n"))
	}
	if err := s.Validate(); err != nil {
		return t, s, usagef("%v (flags --sasl-*, or $%s...)", err, "SLUICE_SASL_")
	}
	if _, err := t.Client(); err != nil {
		return t, s, usagef("%v (flags --kafka-*, or $%s...)", err, "SLUICE_KAFKA_")
	}
	return t, s, nil
}
