package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/bench/contest"
	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/processors/config"
	"github.com/sluicehq/sluice/schemas"
)

// childOptions are the flags of this binary run as a hand-written
// contestant (-child NAME): where it reads and writes.
type childOptions struct {
	name     string
	brokers  string
	registry string
	input    string
	output   string
	dlq      string
	group    string
	stateDir string
	pprof    string
}

func (c *childOptions) register(fs *flag.FlagSet) {
	fs.StringVar(&c.name, "child", "", "run as this hand-written contestant (goka, franz, pipe); the harness starts these")
	fs.StringVar(&c.brokers, "child-brokers", "", "contestant: Kafka brokers, comma-separated")
	fs.StringVar(&c.registry, "child-registry", "", "contestant: schema registry URL")
	fs.StringVar(&c.input, "child-input", "", "contestant: input topic")
	fs.StringVar(&c.output, "child-output", "", "contestant: output topic")
	fs.StringVar(&c.dlq, "child-dlq", "", "contestant: dead-letter topic")
	fs.StringVar(&c.group, "child-group", "", "contestant: consumer group")
	fs.StringVar(&c.stateDir, "child-state-dir", "", "contestant: LevelDB folder (goka)")
	fs.StringVar(&c.pprof, "child-pprof", "", "serve the hand-written W1 contestants' Go profiles on this address under /debug/pprof/ (as sluice run --pprof does), to compare what they wait on")
}

// args are the command line that runs the contestant c.
func (c childOptions) args() []string {
	return []string{"-child=" + c.name, "-child-brokers=" + c.brokers, "-child-registry=" + c.registry,
		"-child-input=" + c.input, "-child-output=" + c.output, "-child-dlq=" + c.dlq,
		"-child-group=" + c.group, "-child-state-dir=" + c.stateDir, "-child-pprof=" + c.pprof}
}

// runChild runs one hand-written contestant until ctx ends (SIGTERM).
func runChild(ctx context.Context, o childOptions) error {
	if o.pprof != "" {
		ln, err := net.Listen("tcp", o.pprof)
		if err != nil {
			return fmt.Errorf("serving profiles: %w", err)
		}
		srv := &http.Server{Handler: ops.WithProfiling(http.NotFoundHandler()), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		defer srv.Close()
	}
	event, err := schemas.ReadFile(schemas.UserEventFile)
	if err != nil {
		return err
	}
	stats, err := schemas.ReadFile(schemas.UserStatsFile)
	if err != nil {
		return err
	}
	cfg := contest.Config{
		Brokers: config.SplitList(o.brokers), RegistryURL: o.registry,
		Input: o.input, Output: o.output, DeadLetter: o.dlq, Group: o.group, StateDir: o.stateDir,
		EventSchema: string(event), StatsSchema: string(stats),
	}
	switch o.name {
	case "goka":
		return contest.Goka(ctx, cfg)
	case "franz":
		return contest.FranzStats(ctx, cfg)
	case "pipe":
		return contest.Pipe(ctx, cfg)
	}
	return fmt.Errorf("no hand-written contestant %q (goka, franz, pipe)", o.name)
}
