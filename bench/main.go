// Command bench measures sluice against what a team would write by hand, on
// the same data in the same run, and prints the comparison table (also
// written to BENCHMARKS.md):
//
//	go run ./bench            # the full suite, a few minutes
//	go run ./bench -smoke     # tiny counts, every contestant but Java's (CI)
//
// The broker is embedded (kfake, as the tests use) unless
// $SLUICE_TEST_BROKERS names a real cluster; the schema registry always runs
// in this process. Every contestant runs in a child process of its own
// (sluice as the built ./cmd/sluice, the hand-written ones as this binary
// with -child), so that the CPU time and peak RSS reported are its own, not
// the broker's or the harness's.
//
// Workloads: W1 the reference user-stats pipeline; W2 big-purchases; W3
// recovery of the user-stats table from its changelog; W4 codec
// microbenchmarks (testing.Benchmark in this process); W5 W1 with a million
// distinct keys on LevelDB. See BENCHMARKS.md for what each column means.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	smoke        bool
	events       int
	users        int
	w5Keys       int
	rate         int
	latencyFor   time.Duration
	out          string
	workloads    string
	contestants  string
	kstreams     string
	timeout      time.Duration
	seed         uint64
	note         string
	sluiceArgs   string
	childOptions childOptions
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.BoolVar(&o.smoke, "smoke", false, "tiny counts and a short latency phase, every contestant but Kafka Streams: a run of seconds that shows the harness still works (CI)")
	fs.IntVar(&o.events, "events", 300000, "W1/W2 backlog: events on the input topic")
	fs.IntVar(&o.users, "users", 10000, "W1/W2: distinct user keys of the backlog")
	fs.IntVar(&o.w5Keys, "w5-keys", 1000000, "W5: distinct keys (one event each)")
	fs.IntVar(&o.rate, "rate", 5000, "latency phase: events per second")
	fs.DurationVar(&o.latencyFor, "latency-for", 10*time.Second, "latency phase: how long to produce at -rate")
	fs.StringVar(&o.out, "out", "BENCHMARKS.md", "write the report here (not in -smoke mode unless set explicitly)")
	fs.StringVar(&o.workloads, "workloads", "w1,w2,w3,w4,w5", "workloads to run, comma-separated")
	fs.StringVar(&o.contestants, "contestants", strings.Join(allContestants, ","), "W1 contestants to run, comma-separated")
	fs.StringVar(&o.kstreams, "kstreams-jar", "", "the Kafka Streams contestant's jar (default: build bench/kstreams with Maven when the broker is real)")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "longest wait for one contestant to drain a backlog")
	fs.Uint64Var(&o.seed, "seed", 13, "seed of the generated events")
	fs.StringVar(&o.sluiceArgs, "sluice-args", "", "extra arguments for the W1 sluice contestants' `sluice run`, space-separated (e.g. \"--http-addr 127.0.0.1:6060 --pprof\" to profile the drain)")
	fs.StringVar(&o.note, "note", "", "a remark for the top of the report, e.g. that the machine was shared")
	o.childOptions.register(fs)
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	explicitOut := false
	fs.Visit(func(f *flag.Flag) {
		if f.Name == "out" {
			explicitOut = true
		}
	})
	if o.smoke {
		o.events, o.users, o.w5Keys = 20000, 500, 5000
		o.rate, o.latencyFor = 1000, time.Second
		o.timeout = time.Minute
		if !explicitOut {
			o.out = ""
		}
	}
	if o.events < 1 || o.users < 1 || o.w5Keys < 1 || o.rate < 10 {
		return o, fmt.Errorf("-events, -users and -w5-keys must be at least 1, -rate at least 10")
	}
	return o, nil
}

func main() {
	o, err := parseOptions(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.childOptions.name != "" {
		err = runChild(ctx, o.childOptions)
	} else {
		err = runSuite(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
