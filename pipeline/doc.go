// Package pipeline turns pipelines.yaml into running Goka processors.
//
// Config flows one way: YAML -> Load (expand ${VAR}, lint with file:line:col,
// compile and type-check every expression) -> *Config -> Build (goka group
// graphs) -> Run. Load and Build do no network I/O, so `sluice validate` and
// `sluice graph` work offline; connecting to Kafka and the registry happens
// only in Run.
//
// It owns the configuration model and the goka runtime; it must not import the
// CLI, internal/ops, internal/dlq, the dev services or the registry server.
// The rules are checked by TestImportRules (arch_test.go).
package pipeline
