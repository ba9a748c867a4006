// Package sluice is the entry point of a sluice binary. The stock binary is
//
//	func main() { os.Exit(sluice.Main()) }
//
// and a binary with custom Go steps registers them first:
//
//	func main() {
//		if err := processors.Register("geoip", newGeoIP); err != nil {
//			log.Fatal(err)
//		}
//		os.Exit(sluice.Main())
//	}
//
// Both get the whole CLI: run, dev, validate, graph, registry, schemas,
// produce, consume, dlq.
package sluice

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/sluicehq/sluice/internal/cli"
)

// Main runs the CLI with the process's arguments and streams, stopping on
// SIGINT or SIGTERM, and returns the exit code.
func Main() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal starts a graceful stop; after it, the default
	// handling is back, so a second Ctrl-C ends a stop that hangs.
	go func() {
		<-ctx.Done()
		stop()
	}()
	return Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
}

// Run runs the CLI with args (without the program name) and returns the exit
// code: 0 success, 1 runtime failure, 2 bad usage or invalid configuration.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return cli.Run(ctx, args, stdin, stdout, stderr)
}
