// Package conf reads YAML configuration with positions. Every value keeps the
// file, line and column it came from, so that any problem found while building
// a pipeline — an unknown key, a missing field, a wrong type, an ill-typed
// expression — is reported as "file:line:col: message", all problems at once.
//
// Scalars expand ${VAR} and ${VAR:-default} from the environment when read.
//
// It owns the YAML reader only: it imports no other sluice package, goka or
// sarama.
// The rules are checked by TestImportRules (arch_test.go).
package conf
