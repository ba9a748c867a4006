// Package processors holds the step types a pipeline is built from and the
// registry through which users add their own.
//
// A step receives a *Message — the key, the current value, the key's table
// state and the source position — and either lets it continue, drops it
// (filtered) or fails with an error. Errors are poison by default: the runtime
// dead-letters the message at once. Wrap an error with Transient to have the
// runtime retry the message with backoff instead.
//
// Each built-in step lives in its own step_*.go file with its constructor and
// its registration. Custom Go steps are registered in a Registry that the
// user's main hands to sluice.Main:
//
//	steps := processors.NewRegistry()
//	err := steps.Register("geoip", func(spec *processors.Spec) (processors.Step, error) { … })
//	…
//	os.Exit(sluice.Main(sluice.WithSteps(steps)))
//
// and referenced in pipelines.yaml by that name. A factory is unit-tested by
// calling it with a Spec built from config.Parse (see NewSpec).
//
// Steps are pure functions of a Message: this package must not import
// pipeline, goka, sarama or a Kafka client.
// The rules are checked by TestImportRules (arch_test.go).
package processors
