package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
)

// TestRebalanceAvailability measures how long the partitions of both
// reference pipelines go unowned while three `sluice run` instances change:
// the second and third join, each is restarted with SIGTERM in turn (a
// rolling deploy), one is SIGKILLed and then comes back; events arrive all
// along. Ownership is read from each instance's /pipelines: a partition is
// owned when an instance lists it for a pipeline that is ready (assigned, its
// table recovered, consuming). The timings are logged, never asserted (they
// depend on the machine); the results must be exact.
//
// Dynamic membership runs by default; SLUICE_LONG_TESTS=1 adds static
// membership (an instance id per instance, from $SLUICE_INSTANCE_ID).
func TestRebalanceAvailability(t *testing.T) {
	svc := startServices(t)
	modes := []string{"dynamic"}
	if os.Getenv("SLUICE_LONG_TESTS") != "" {
		modes = append(modes, "static")
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { availability(t, svc, mode == "static") })
	}
}

func availability(t *testing.T, svc *services, static bool) {
	const partitions = 6
	suffix := testkit.Unique("")
	names := struct{ input, stats, big string }{"user-topic" + suffix, "user-stats" + suffix, "big-purchases" + suffix}
	// Sluice's default session timeout and heartbeat: what a deployment gets.
	cfgPath := referencePipelines(t, suffix, "")
	testkit.CreateTopic(t, svc.brokers, names.input, partitions, nil)
	client := registryClient(t, svc.registry)
	v1, v2 := encoders(t, client, names.input)
	events := demo.GenerateEvents(testkit.Seed(t), 30000, 300, 0.02)
	records, err := demo.Records(names.input, events, v1, v2, 1<<29)
	if err != nil {
		t.Fatal(err)
	}
	// A third of the events before the first start, so that each table
	// partition has something to recover, the rest while instances change.
	const before = 10000
	testkit.Produce(t, svc.brokers, records[:before])

	mon := &ownershipMonitor{pipelines: []string{names.stats, names.big}, partitions: partitions, slots: make([]*instance, 3)}
	monCtx, stopMonitor := context.WithCancel(context.Background())
	monDone := make(chan struct{})
	go func() {
		defer close(monDone)
		mon.run(monCtx)
	}()
	t.Cleanup(func() {
		stopMonitor()
		<-monDone
	})

	generation := 0
	var procs []*proc
	startInstance := func(slot int) *instance {
		generation++
		in := &instance{name: "run-" + strconv.Itoa(slot)}
		env := svc.env()
		if static {
			env = append(env, "SLUICE_INSTANCE_ID=availability"+suffix+"-"+strconv.Itoa(slot))
		}
		in.proc = start(t, in.name+"-"+strconv.Itoa(generation), env, "run", "-f", cfgPath, "--http-addr", "127.0.0.1:0", "--log-level", "info")
		procs = append(procs, in.proc)
		in.http = in.proc.awaitLine(t, opsAddrLine, time.Minute)[1]
		mon.setSlot(slot, in)
		return in
	}
	instances := make([]*instance, 3)
	var steps []availabilityStep
	step := func(what string, began time.Time, live ...int) availabilityStep {
		t.Helper()
		s := availabilityStep{what: what, began: began, took: mon.waitSettled(t, what, began, live)}
		gaps := mon.gaps(began, began.Add(s.longest()))
		var unowned time.Duration
		for _, g := range gaps {
			unowned += g
		}
		t.Logf("%s: every partition owned again after %s; some unowned for %s in %d gaps %v; partitions that changed instance: %v", what, s.format(mon.pipelines),
			unowned.Round(10*time.Millisecond), len(gaps), roundAll(gaps), mon.moved(began))
		steps = append(steps, s)
		return s
	}

	began := time.Now()
	instances[0] = startInstance(0)
	step("first instance starts", began, 0)

	// The rest of the events, at a steady rate while the instances change.
	produced := make(chan error, 1)
	produceCtx, stopProducing := context.WithCancel(context.Background())
	defer stopProducing()
	go func() { produced <- produceSteadily(produceCtx, svc.brokers, records[before:], 1000) }()

	began = time.Now()
	instances[1] = startInstance(1)
	step("second instance joins", began, 0, 1)
	began = time.Now()
	instances[2] = startInstance(2)
	step("third instance joins", began, 0, 1, 2)

	// Rolling restart: each instance gets SIGTERM; its successor starts
	// as soon as it has exited, as a deployment would do it.
	var rolling []availabilityStep
	for i := range instances {
		others := mon.latest()
		began := time.Now()
		if err := instances[i].proc.stop(t, time.Minute); err != nil {
			t.Errorf("%s did not exit 0 on SIGTERM: %v", instances[i].name, err)
		}
		instances[i] = startInstance(i)
		s := step("rolling restart of "+instances[i].name, began, 0, 1, 2)
		if static {
			kept := mon.othersKept(s.began, s.began.Add(s.longest()), i, others)
			t.Logf("rolling restart of %s: the other instances kept their partitions all along: %v", instances[i].name, kept)
		}
		rolling = append(rolling, s)
	}
	last := rolling[len(rolling)-1]
	rollingShare, rollingWindow := mon.allOwnedShare(rolling[0].began, last.began.Add(last.longest()))
	t.Logf("rolling restart: every partition of both pipelines owned %.1f%% of %s", 100*rollingShare, rollingWindow.Round(100*time.Millisecond))

	// SIGKILL: the survivors take the partitions over once the killed
	// member's session has expired; then it comes back.
	began = time.Now()
	instances[1].proc.kill()
	mon.setSlot(1, nil)
	step("SIGKILL of run-1", began, 0, 2)
	began = time.Now()
	instances[1] = startInstance(1)
	step("run-1 back after the kill", began, 0, 1, 2)

	if err := testkit.Await(t, 3*time.Minute, "the producer to write the remaining events", produced); err != nil {
		t.Fatalf("producing: %v", err)
	}
	membership := "dynamic"
	if static {
		membership = "static"
	}
	broker := "embedded broker"
	if testkit.External() {
		broker = "real broker"
	}
	parts := make([]string, 0, len(steps)+1)
	for _, s := range steps {
		parts = append(parts, s.what+" "+s.format(mon.pipelines))
	}
	parts = append(parts, fmt.Sprintf("all owned during the rolling restart %.1f%% of %s", 100*rollingShare, rollingWindow.Round(100*time.Millisecond)))
	// A pipeline that fails in a change is restarted after a pause, cold.
	restarts := 0
	for _, p := range procs {
		b, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatalf("reading the log of %s: %v", p.name, err)
		}
		restarts += strings.Count(string(b), `msg="pipeline stopped, restarting"`)
	}
	parts = append(parts, fmt.Sprintf("pipeline restarts %d", restarts))
	t.Logf("availability summary (%s membership, %s; %s / %s): %s", membership, broker, names.stats, names.big, strings.Join(parts, "; "))

	checkReferenceResults(t, svc, client, instances, names.input, names.stats, names.big, events)
}

// availabilityStep is one membership change and how long after it each
// pipeline had every partition owned again.
type availabilityStep struct {
	what  string
	began time.Time
	took  map[string]time.Duration
}

func (s availabilityStep) format(pipelines []string) string {
	out := make([]string, len(pipelines))
	for i, name := range pipelines {
		out[i] = s.took[name].Round(10 * time.Millisecond).String()
	}
	return strings.Join(out, " / ")
}

func (s availabilityStep) longest() time.Duration {
	var d time.Duration
	for _, took := range s.took {
		d = max(d, took)
	}
	return d
}

// checkReferenceResults waits until both groups have consumed everything
// and checks that every user's state, wherever its partition lives, and the
// last user-stats output per user are exact, and that big-purchases has
// every expected output, in order per user (it is at-least-once).
func checkReferenceResults(t *testing.T, svc *services, client codecs.Registry, instances []*instance, input, stats, big string, events []demo.Event) {
	t.Helper()
	for _, group := range []string{stats, big} {
		testkit.WaitLagZero(t, svc.brokers, group, input, 2*time.Minute)
	}
	want := testkit.ExpectUserStats(events)
	wrong := 0
	for key, w := range want {
		var got testkit.UserStats
		found := false
		for _, in := range instances {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			code, err := getJSON(ctx, "http://"+in.http+"/pipelines/"+stats+"/state/"+key, &got)
			cancel()
			if err == nil && code == 200 {
				found = true
				break
			}
		}
		if !found || !sameStats(got, w) {
			wrong++
			if wrong <= 3 {
				t.Errorf("state of %s: found=%v got %+v want %+v", key, found, got, w)
			}
		}
	}
	outs, missing := checkLastOutputs(t, svc.brokers, client, stats, want)

	wantBig := testkit.ExpectBigPurchases(events)
	gotBig := map[string][]testkit.BigPurchase{}
	bigOuts := readUntilQuiet(t, svc.brokers, big)
	for _, r := range bigOuts {
		var b testkit.BigPurchase
		if err := json.Unmarshal(r.Value, &b); err != nil {
			t.Fatalf("big-purchases output %q: %v", r.Value, err)
		}
		gotBig[string(r.Key)] = append(gotBig[string(r.Key)], b)
	}
	bigWrong := 0
	for k, w := range wantBig {
		if !coversInOrder(gotBig[k], w) {
			bigWrong++
			if bigWrong <= 3 {
				t.Errorf("big-purchases of %s: got %d outputs %+v, want at least %+v in order", k, len(gotBig[k]), gotBig[k], w)
			}
		}
	}
	for k := range gotBig {
		if _, ok := wantBig[k]; !ok {
			bigWrong++
			t.Errorf("big-purchases for %s, which made none", k)
		}
	}
	t.Logf("results: %d events, %d users, %d user-stats outputs, %d big-purchases outputs; differences: state %d, last output %d, big-purchases %d",
		len(events), len(want), len(outs), len(bigOuts), wrong, missing, bigWrong)
}

// coversInOrder reports whether got is want with some stretches written
// twice (a redelivery repeats what was emitted before it): every element of
// want appears in order, and anything else is a repeat of one already seen.
// It is the check of pipeline's failure tests.
func coversInOrder(got, want []testkit.BigPurchase) bool {
	j := 0
	for _, g := range got {
		if j < len(want) && sameBig(g, want[j]) {
			j++
			continue
		}
		if !slices.ContainsFunc(want[:j], func(w testkit.BigPurchase) bool { return sameBig(g, w) }) {
			return false
		}
	}
	return j == len(want)
}

func sameBig(a, b testkit.BigPurchase) bool {
	return a.UserID == b.UserID && a.Amount == b.Amount &&
		((a.Country == nil && b.Country == nil) || (a.Country != nil && b.Country != nil && *a.Country == *b.Country))
}

// produceSteadily writes records in batches every 50ms, at about rate
// records per second.
func produceSteadily(ctx context.Context, brokers []string, records []*kgo.Record, rate int) error {
	cl, err := testkit.Kafka(brokers).NewClient(kgo.ProducerLinger(5 * time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	batch := max(1, rate/20)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < len(records); i += batch {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
		if err := cl.ProduceSync(ctx, records[i:min(i+batch, len(records))]...).FirstErr(); err != nil {
			return fmt.Errorf("producing events %d to %d: %w", i, i+batch, err)
		}
	}
	return nil
}
