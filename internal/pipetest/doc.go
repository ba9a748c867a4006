// Package pipetest runs pipeline test files (`sluice test`): YAML files
// that give a pipeline input records and expect its outputs, dead letters
// and final state per key. The pipelines run offline (pipeline.Offline:
// goka's tester, an in-memory schema registry), through the production
// steps, codecs and handler, so a test passes exactly when the pipeline
// would behave so on Kafka.
//
// Load reads a test file and reports every problem in it as
// "file:line:col: message"; Run runs its cases and writes a report with a
// diff and the position of each expectation that failed.
//
// It reads configuration with processors/config and runs pipelines with
// package pipeline; it must not import the CLI, the dev services or the
// registry server.
// The rules are checked by TestImportRules (arch_test.go).
package pipetest
