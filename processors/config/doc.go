// Package config reads YAML configuration with positions. Every value keeps
// the file, line and column it came from, so that any problem found while
// building a pipeline — an unknown key, a missing field, a wrong type, an
// ill-typed expression — is reported as "file:line:col: message", all
// problems at once.
//
// It is public because a step is handed its configuration as a *Node
// (processors.Spec.Config): a custom step's factory reads it with Map, Get,
// Need, String, Int, Float, Bool, Duration and friends, and its unit test
// builds one with Parse:
//
//	node, err := config.Parse("gold: 200\nsilver: 50")
//	…
//	if err := node.Reporter().Err(); err != nil { … } // the problems the factory recorded
//
// Scalars expand ${VAR} and ${VAR:-default} from the environment when read.
//
// It owns the YAML reader only: it imports no other sluice package, goka or
// sarama.
// The rules are checked by TestImportRules (arch_test.go).
package config
