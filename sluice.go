// Package sluice is the entry point of a sluice binary. The stock binary is
//
//	func main() { os.Exit(sluice.Main()) }
//
// and a binary with custom Go steps builds a registry of step types (the
// built-in ones plus its own) and hands it over:
//
//	func main() {
//		steps := processors.NewRegistry()
//		if err := steps.Register("geoip", newGeoIP); err != nil {
//			log.Fatal(err)
//		}
//		os.Exit(sluice.Main(sluice.WithSteps(steps)))
//	}
//
// Both get the whole CLI: run, dev, validate, test, graph, registry,
// schemas, produce, consume, dlq.
package sluice

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicehq/sluice/internal/cli"
	"github.com/sluicehq/sluice/processors"
)

// Option changes how Main and Run run the CLI.
type Option func(*options)

type options struct {
	steps *processors.Registry
}

// WithSteps has pipelines find their step types in reg, a registry made by
// processors.NewRegistry (which holds the built-in steps) with the binary's
// custom Go steps registered in it. Without it, pipelines can use the
// built-in steps only.
func WithSteps(reg *processors.Registry) Option {
	return func(o *options) { o.steps = reg }
}

// Main runs the CLI with the process's arguments and streams, stopping on
// SIGINT or SIGTERM, and returns the exit code.
func Main(opts ...Option) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop; after it, the default
	// handling is back, so a second Ctrl-C ends a stop that hangs.
	go func() {
		<-ctx.Done()
		stop()
	}()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, opts...)
}

// Run runs the CLI with args (without the program name) and returns the exit
// code: 0 success, 1 runtime failure, 2 bad usage or invalid configuration.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, opts ...Option) int {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var cliOpts []cli.Option
	if o.steps != nil {
		cliOpts = append(cliOpts, cli.WithSteps(o.steps))
	}
	return cli.Run(ctx, args, stdin, stdout, stderr, cliOpts...)
}
