package cli

import (
	"strconv"

	"github.com/sluicehq/sluice/internal/kafkaconn"
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
