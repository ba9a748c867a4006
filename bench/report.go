package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/sluicehq/sluice/processors/config"
)

// report is what one run measured.
type report struct {
	o        options
	external bool
	brokers  []string
	started  time.Time
	elapsed  time.Duration
	w1, w2   []result
	w3       w3Result
	w5       []result
	codecs   []codecResult
	notes    []string
}

// failed reports whether any contestant failed or was not exact.
func (r *report) failed() bool {
	for _, rows := range [][]result{r.w1, r.w2, r.w5} {
		for _, x := range rows {
			if x.err != nil || x.exact != "yes" {
				return true
			}
		}
	}
	return r.w3.err != nil
}

// find returns W1's row of contestant c.
func (r *report) find(c string) *result {
	for i := range r.w1 {
		if r.w1[i].contestant == c && r.w1[i].err == nil && r.w1[i].perSec > 0 {
			return &r.w1[i]
		}
	}
	return nil
}

func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks\n\n")
	if r.o.smoke {
		p("**Smoke run** (tiny counts: the numbers mean nothing, only that the harness works).\n\n")
	}
	if r.o.note != "" {
		p("**%s**\n\n", r.o.note)
	}
	cmd := "go run ./bench"
	if len(os.Args) > 1 {
		cmd += " " + strings.Join(os.Args[1:], " ")
	}
	broker := "embedded kfake (in the harness process)"
	if r.external {
		broker = "real Kafka at " + strings.Join(r.brokers, ",") + " (`" + brokersVar + "`)"
	}
	p("- command: `%s`\n", cmd)
	p("- broker: %s; schema registry: sluice's, in the harness process\n", broker)
	p("- machine: %s, %d cores (%s/%s); %s\n", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	p("- date: %s; the run took %s\n", r.started.UTC().Format("2006-01-02 15:04 MST"), r.elapsed.Round(time.Second))
	p("- data: %d events over %d users (1%% poison, 10%% heartbeats, 5%% negative amounts, v1 and v2 writers), %d input partitions; latency at %d msg/s for %s; W5 %d keys\n\n",
		r.o.events, r.o.users, partitions, r.o.rate, r.o.latencyFor, r.o.w5Keys)
	for _, n := range r.notes {
		p("%s\n\n", n)
	}

	if len(r.w1) > 0 {
		p("## W1: the reference user-stats pipeline\n\n")
		p("| contestant | msg/s | CPU µs/msg | peak RSS MB | p50 ms | p99 ms | msg/s vs goka | CPU vs goka | msg/s vs franz-go | exact |\n")
		p("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
		goka, franz := r.find(cGoka), r.find(cFranz)
		for _, x := range r.w1 {
			p("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", contestantLabels[x.contestant],
				perSec(x), cpuPer(x), mb(x.peakRSS), ms(x.p50, x.latencyN), ms(x.p99, x.latencyN),
				ratio(x.perSec, goka, func(y *result) float64 { return y.perSec }),
				ratio(float64(x.cpuPerMsg), goka, func(y *result) float64 { return float64(y.cpuPerMsg) }),
				ratio(x.perSec, franz, func(y *result) float64 { return y.perSec }), exact(x))
		}
		p("\n")
	}
	if len(r.w2) > 0 {
		p("## W2: big-purchases\n\n| contestant | msg/s | CPU µs/msg | peak RSS MB | exact |\n|---|---:|---:|---:|---|\n")
		for _, x := range r.w2 {
			p("| `sluice run --pipeline big-purchases` | %s | %s | %s | %s |\n", perSec(x), cpuPer(x), mb(x.peakRSS), exact(x))
		}
		p("\n")
	}
	if r.w3.err != nil || r.w3.records > 0 {
		p("## W3: recovery of the user-stats table from its changelog (sluice, state in memory)\n\n")
		if r.w3.err != nil {
			p("failed: %v\n\n", r.w3.err)
		} else {
			p("| changelog records | recovery s | records/s | process start to ready s | peak RSS MB |\n|---:|---:|---:|---:|---:|\n")
			p("| %d | %.2f | %.0f | %.2f | %s |\n\n", r.w3.records, r.w3.recover.Seconds(),
				float64(r.w3.records)/r.w3.recover.Seconds(), r.w3.sinceExec.Seconds(), mb(r.w3.peakRSS))
		}
	}
	if len(r.codecs) > 0 {
		p("## W4: codec microbenchmarks and the per-message path\n\n| benchmark | ns/op | allocs/op | B/op |\n|---|---:|---:|---:|\n")
		for _, c := range r.codecs {
			p("| %s | %.0f | %d | %d |\n", c.name, c.nsPerOp, c.allocs, c.bytes)
		}
		p("\n")
	}
	if len(r.w5) > 0 {
		p("## W5: user-stats over %d distinct keys (one event each), state in LevelDB\n\n", r.o.w5Keys)
		p("| contestant | msg/s | CPU µs/msg | peak RSS MB | exact |\n|---|---:|---:|---:|---|\n")
		for _, x := range r.w5 {
			p("| %s | %s | %s | %s | %s |\n", contestantLabels[x.contestant], perSec(x), cpuPer(x), mb(x.peakRSS), exact(x))
		}
		p("\n")
	}
	p(columnsDoc)
	return b.String()
}

const columnsDoc = `## What the columns mean

- **msg/s**: input messages per second while the contestant drains a backlog
  that was on the input topic before it started, timed from its first output
  to the output of the last input by the outputs' own record timestamps
  (each contestant's client stamps a record when it produces it; the Kafka
  Streams app stamps its outputs with the wall clock), so the contestant's
  start (process, group join, table recovery) is outside the window and the
  harness's own reading speed does not count.
- **CPU µs/msg**: the contestant process's user + system CPU time
  (/proc/<pid>/stat, all threads, sampled every 5 ms and interpolated) over
  the same window, per input message. Every contestant is a child process of
  its own; the broker and the harness are not in its numbers.
- **peak RSS MB**: the contestant's maximum resident set over its life until
  the harness stops it after the drain (VmHWM of /proc/<pid>/status; the
  child's ru_maxrss would include the harness's own peak, which Linux folds
  in at exec).
- **p50 / p99 ms**: end-to-end latency while events arrive at the fixed rate
  (after the backlog is drained): the time the harness consumed an output
  minus the timestamp the producer wrote into its event (the user-stats
  output's last_ts; the raw pipe's copied event), in milliseconds, on one
  clock.
- **vs goka / vs franz-go**: the contestant's msg/s (or CPU per message)
  divided by the hand-written goka processor's (or the plain franz-go
  pipeline's) in the same run. Above 1.0 in msg/s is faster; below 1.0 in
  CPU is cheaper.
- **exact**: every contestant's outputs are checked against the oracle
  (internal/testkit/oracle.go): each user's last user-stats output equals the
  expected totals, the raw pipe copied every record of every key in order,
  big-purchases emitted exactly the expected records per key.
- **W3**: changelog records divided by the time from sluice's first
  "recovering" status to ready (GET /pipelines/user-stats, polled every 5 ms);
  the window includes the group join before goka reads the changelog, so it
  understates the recovery rate a little.
- **W4**: ns and allocations per decode of one framed UserEvent into the v2
  reader schema (v1 frames are resolved); and BenchmarkUserStatsCallback
  (pipeline/bench_test.go, ` + "`go test -run '^$' -bench UserStatsCallback -benchmem ./pipeline`" + `):
  the allocations of one message through sluice's user-stats callback in
  goka's tester, beside the tester's own floor (its ns/op is mostly the
  tester's polling, not sluice's work).
`

func perSec(x result) string {
	if x.err != nil {
		return "failed: " + strings.ReplaceAll(firstLine(x.err.Error()), "|", "/")
	}
	if x.tooFast {
		return "too fast to time"
	}
	return fmt.Sprintf("%.0f", x.perSec)
}

func cpuPer(x result) string {
	if x.perSec == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(x.cpuPerMsg)/float64(time.Microsecond))
}

func mb(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(b)/(1<<20))
}

func ms(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(d)/float64(time.Millisecond))
}

func ratio(v float64, base *result, of func(*result) float64) string {
	if base == nil || of(base) == 0 || v == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", v/of(base))
}

func exact(x result) string {
	if x.exact == "" {
		return "-"
	}
	return strings.ReplaceAll(x.exact, "|", "/")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// cpuModel is the first model name of /proc/cpuinfo.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

func splitList(s string) []string { return config.SplitList(s) }

func joinList(l []string) string { return strings.Join(l, ",") }
