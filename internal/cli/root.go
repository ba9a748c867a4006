// Package cli implements the sluice command line. Each command lives in its own
// cmd_*.go file; Run is the single entry point used by main and by tests.
//
// It is the top of the graph: it may import every other package, and nothing
// imports it but the root package sluice.
// The rules are checked by TestImportRules (arch_test.go).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sluicehq/sluice/internal/buildinfo"
	"github.com/sluicehq/sluice/processors"
)

// Exit codes of the CLI contract.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// usageError marks errors that must exit with ExitUsage (bad flags, invalid config).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns an error that makes the CLI exit with code 2.
func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// app carries the process environment every command reads; tests supply their own.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// logFormat is the global --log-format flag (see logger).
	logFormat string
	// steps are the step types pipelines may use: the built-in ones and
	// the binary's custom Go steps.
	steps *processors.Registry
}

// Option changes how Run runs the CLI.
type Option func(*app)

// WithSteps has pipelines find their step types in reg (built-in and custom
// Go steps) instead of a registry of the built-in steps only.
func WithSteps(reg *processors.Registry) Option {
	return func(a *app) { a.steps = reg }
}

// Run executes the sluice CLI with args (without the program name) and returns the exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...Option) int {
	return runWithEnv(ctx, args, stdin, stdout, stderr, os.Getenv, opts...)
}

func runWithEnv(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, opts ...Option) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	for _, o := range opts {
		o(a)
	}
	if a.steps == nil {
		a.steps = processors.NewRegistry()
	}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(stderr, "sluice: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitFailure
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "sluice",
		Short:         "Stream-processing pipelines on Apache Kafka, declared in YAML",
		SilenceUsage:  true,
		SilenceErrors: true,
		// --version prints what `sluice version` prints.
		Version: buildinfo.Get().String(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	addLogFormatFlag(root, &a.logFormat)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, c := range a.commands() {
		root.AddCommand(c)
	}
	return root
}

// commands lists the subcommands; each constructor lives in its cmd_*.go file.
func (a *app) commands() []*cobra.Command {
	return []*cobra.Command{
		a.runCmd(),
		a.devCmd(),
		a.validateCmd(),
		a.testCmd(),
		a.graphCmd(),
		a.schemasCmd(),
		a.produceCmd(),
		a.consumeCmd(),
		a.registryCmd(),
		a.dlqCmd(),
		a.resetCmd(),
		a.versionCmd(),
	}
}

// flagOrEnv returns the flag's value, else the environment variable's.
func (a *app) flagOrEnv(flag, env string) string {
	if flag != "" {
		return flag
	}
	return a.getenv(env)
}

// envOr returns the environment variable name if set, else def.
func (a *app) envOr(name, def string) string {
	if v := a.getenv(name); v != "" {
		return v
	}
	return def
}

// isCobraUsage recognises cobra's own usage errors (unknown commands and
// wrong argument counts), which it returns as plain errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown shorthand flag", "unknown flag"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// requireSubcommand makes a parent command (dlq, schemas, registry) refuse to
// run without one of its subcommands, or with an unknown one: exit 2 instead
// of cobra's help and exit 0.
func requireSubcommand(cmd *cobra.Command) {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var names []string
		for _, sub := range c.Commands() {
			if sub.IsAvailableCommand() {
				names = append(names, sub.Name())
			}
		}
		if len(args) > 0 {
			return usagef("unknown %s command %q (want: %s)", c.Name(), args[0], strings.Join(names, ", "))
		}
		return usagef("%s needs a command: %s", c.Name(), strings.Join(names, ", "))
	}
}
