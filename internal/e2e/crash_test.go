package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry/regclient"
)

// crashPlan is the size of the crash test; SLUICE_LONG_TESTS=1 makes it bigger.
type crashPlan struct {
	events, users, kills int
	rate                 int // events per second
}

func plan() crashPlan {
	if os.Getenv("SLUICE_LONG_TESTS") != "" {
		return crashPlan{events: 200000, users: 2000, kills: 15, rate: 4000}
	}
	return crashPlan{events: 50000, users: 500, kills: 5, rate: 2500}
}

// TestCrashRecoveryIsExact produces events at a steady rate while `sluice run`
// is SIGKILLed at random moments and restarted, alternately with its state
// directory and with an empty one (the table then comes back from its
// changelog). At the end the state per user and the last user-stats output per
// user must equal an independent computation exactly, and the dead letters
// must be exactly the poison and invalid messages.
func TestCrashRecoveryIsExact(t *testing.T) {
	pl := plan()
	svc := startServices(t)
	suffix := testkit.Unique("")
	names := struct{ input, stats, big, dlq, purchases string }{"user-topic" + suffix, "user-stats" + suffix, "big-purchases" + suffix, "user-topic" + suffix + "-dlq", "user-purchases-5m" + suffix}
	cfgPath := pipelinesFile(t, suffix, "")
	testkit.CreateTopic(t, svc.brokers, names.input, 6, nil)

	client := registryClient(t, svc.registry)
	v1, v2 := encoders(t, client, names.input)
	seed := testkit.Seed(t)
	events := demo.GenerateEvents(seed, pl.events, pl.users, 0.02)
	records, err := demo.Records(names.input, events, v1, v2, 1<<29)
	if err != nil {
		t.Fatal(err)
	}

	stateDir := filepath.Join(t.TempDir(), "state")
	runArgs := func(withState bool) []string {
		// A stable instance id (static membership), as a deployment would
		// give it: the restarted process takes its killed predecessor's place
		// at once instead of waiting for that session to expire. Each process
		// serves its operations endpoints on a random port, which it logs.
		args := []string{"run", "-f", cfgPath, "--http-addr", "127.0.0.1:0", "--log-level", "info", "--instance-id", "crash-test"}
		if withState {
			args = append(args, "--state-dir", stateDir)
		}
		return args
	}
	run := start(t, "run-0", svc.env(), runArgs(true)...)

	// Produce at a steady rate in batches, recording where each record landed.
	produced := make(chan struct{})
	var prodErr error
	produceCtx, stopProducing := context.WithCancel(context.Background())
	defer stopProducing()
	go func() {
		defer close(produced)
		cl, err := kgo.NewClient(append(testkit.KafkaOpts(t, svc.brokers), kgo.ProducerLinger(5*time.Millisecond))...)
		if err != nil {
			prodErr = err
			return
		}
		defer cl.Close()
		batch := max(1, pl.rate/20)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for i := 0; i < len(records); i += batch {
			<-tick.C
			end := min(i+batch, len(records))
			if err := cl.ProduceSync(produceCtx, records[i:end]...).FirstErr(); err != nil {
				prodErr = err
				return
			}
		}
	}()

	// Kill at random moments while producing, alternating state dir / empty.
	rng := rand.New(rand.NewPCG(seed, 1))
	window := time.Duration(pl.events/pl.rate) * time.Second
	var moments []time.Duration
	for range pl.kills {
		moments = append(moments, time.Duration(rng.Int64N(int64(window))))
	}
	slices.Sort(moments)
	began := time.Now()
	for i, at := range moments {
		// Sleeping until the scheduled moment is the test's design: kills at
		// random moments, not on any condition.
		time.Sleep(time.Until(began.Add(at)))
		run.kill()
		withState := i%2 == 1
		if !withState {
			if err := os.RemoveAll(stateDir); err != nil {
				t.Fatal(err)
			}
		}
		t.Logf("kill %d at %s; restarting with state dir: %v", i+1, at.Round(time.Millisecond), withState)
		run = start(t, "run-"+strconv.Itoa(i+1), svc.env(), runArgs(withState)...)
	}
	// The producer's ticker paces it over the window; give it two minutes more.
	testkit.Await(t, window+2*time.Minute, "the producer to write all "+strconv.Itoa(len(records))+" events", produced)
	if prodErr != nil {
		t.Fatalf("producing: %v", prodErr)
	}

	// Wait until every user's state in the table is the expected one.
	httpAddr := run.awaitLine(t, opsAddrLine, time.Minute)[1]
	want := testkit.ExpectUserStats(events)
	const stateWait = 4 * time.Minute
	waitCtx, cancelWait := context.WithTimeout(context.Background(), stateWait)
	defer cancelWait()
	var diffs []string
	var example string // the first differing user, as last seen
	for {
		diffs, example = diffs[:0], ""
		for key, w := range want {
			var got testkit.UserStats
			ctx, cancel := context.WithTimeout(waitCtx, 10*time.Second)
			code, err := getJSON(ctx, "http://"+httpAddr+"/pipelines/"+names.stats+"/state/"+key, &got)
			cancel()
			if err != nil || code != 200 || !sameStats(got, w) {
				if len(diffs) == 0 {
					example = fmt.Sprintf("%s: status %d, error %v, got %+v, want %+v", key, code, err, got, w)
				}
				diffs = append(diffs, key)
			}
		}
		if len(diffs) == 0 || waitCtx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond) // the poll interval of this wait, bounded by waitCtx
	}
	if len(diffs) > 0 {
		t.Fatalf("timed out after %s waiting for the state of every user to be the expected one after %d kills: %d users still differ (e.g. %s); run log:\n%s",
			stateWait, pl.kills, len(diffs), example, run.tail(40))
	}
	for _, group := range []string{names.stats, names.big, names.purchases} {
		testkit.WaitLagZero(t, svc.brokers, group, names.input, 2*time.Minute)
	}
	// Every window the partitions' stream times closed is published, with
	// its exact value (a kill may have published one twice, never two values).
	wantWindows := expectWindows(events, records)
	windowDiffs, windowOuts := waitWindows(t, svc.brokers, client, names.purchases, wantWindows, 2*time.Minute)
	if err := run.stop(t, time.Minute); err != nil {
		t.Errorf("sluice run did not exit 0 after SIGTERM: %v; log:\n%s", err, run.tail(30))
	}

	// The last output per user is the expected state.
	outs, missing := checkLastOutputs(t, svc.brokers, client, names.stats, want)
	// Dead letters: exactly the poison (both pipelines) and the negatives (user-stats).
	wantDLQ := map[string]bool{}
	for i, e := range events {
		pos := strconv.Itoa(int(records[i].Partition)) + "/" + strconv.FormatInt(records[i].Offset, 10)
		switch e.Kind {
		case demo.KindPoison:
			wantDLQ[names.stats+"@"+pos], wantDLQ[names.big+"@"+pos] = true, true
		case demo.KindNegative:
			wantDLQ[names.stats+"@"+pos] = true
		}
	}
	gotDLQ := map[string]bool{}
	dlq := readUntilQuiet(t, svc.brokers, names.dlq)
	for _, d := range dlq {
		p, _ := testkit.Header(d, deadletter.HeaderPipeline)
		part, _ := testkit.Header(d, deadletter.HeaderSourcePartition)
		off, _ := testkit.Header(d, deadletter.HeaderSourceOffset)
		gotDLQ[p+"@"+part+"/"+off] = true
	}
	extra, lost := 0, 0
	for k := range gotDLQ {
		if !wantDLQ[k] {
			extra++
		}
	}
	for k := range wantDLQ {
		if !gotDLQ[k] {
			lost++
		}
	}
	t.Logf("crash test: %d events, %d kills, %d users, %d outputs, %d dead letters (%d distinct, %d expected); differences: state 0, last output %d, dead letters missing %d, unexpected %d",
		pl.events, pl.kills, len(want), len(outs), len(dlq), len(gotDLQ), len(wantDLQ), missing, lost, extra)
	if extra > 0 || lost > 0 {
		byPipeline := map[string]int{}
		for k := range wantDLQ {
			if !gotDLQ[k] {
				byPipeline[k[:strings.Index(k, "@")]]++
			}
		}
		t.Errorf("dead letters: %d unexpected, %d missing %v", extra, lost, byPipeline)
	}
	if missing > 0 {
		t.Errorf("last output differs for %d users", missing)
	}
	t.Logf("user-purchases-5m: %d closed windows expected, %d outputs", len(wantWindows), windowOuts)
	if len(windowDiffs) > 0 {
		t.Errorf("user-purchases-5m: %d windows differ, e.g.\n  %s", len(windowDiffs), strings.Join(windowDiffs[:min(5, len(windowDiffs))], "\n  "))
	}
}

// expectWindows computes the windows user-purchases-5m publishes: 5-minute
// purchase counts and sums per user, per partition in offset order, a
// purchase taken unless the partition's largest ts so far reached its
// window's end + 1 minute; published are the windows the partition's final
// stream time closed. Keys are "user [start, end)".
func expectWindows(events []demo.Event, records []*kgo.Record) map[string]string {
	const size, grace = int64(5 * 60_000), int64(60_000)
	type acc struct {
		partition int32
		end       int64
		purchases int64
		spent     float64
	}
	windows := map[string]*acc{}
	seen := map[int32]int64{}
	for i, e := range events {
		if e.Kind != demo.KindValid || e.EventType != "purchase" || e.Amount < 0 {
			continue
		}
		p := records[i].Partition
		if s, ok := seen[p]; !ok || e.TS > s {
			seen[p] = e.TS
		}
		start := e.TS - e.TS%size
		if start+size+grace <= seen[p] {
			continue // late
		}
		k := fmt.Sprintf("%s [%d, %d)", e.Key, start, start+size)
		if windows[k] == nil {
			windows[k] = &acc{partition: p, end: start + size}
		}
		windows[k].purchases++
		windows[k].spent += e.Amount
	}
	want := map[string]string{}
	for k, a := range windows {
		if a.end+grace <= seen[a.partition] {
			want[k] = fmt.Sprintf("purchases=%d spent=%.2f", a.purchases, a.spent)
		}
	}
	return want
}

// waitWindows reads the window outputs until they are the expected ones or
// timeout passes, and returns the differences left and the outputs read.
func waitWindows(t *testing.T, brokers []string, client codecs.Registry, topic string, want map[string]string, timeout time.Duration) ([]string, int) {
	t.Helper()
	dec := avroDecoder(t, client, "../../schemas/user_purchases_5m.avsc")
	deadline := time.Now().Add(timeout)
	for {
		outs := readUntilQuiet(t, brokers, topic)
		got := map[string]string{}
		var diffs []string
		for _, r := range outs {
			v, err := dec.Decode(r.Value)
			if err != nil {
				t.Fatalf("decoding a window output: %v", err)
			}
			m := v.(map[string]any)
			k := fmt.Sprintf("%s [%d, %d)", r.Key, m["window_start"].(time.Time).UnixMilli(), m["window_end"].(time.Time).UnixMilli())
			val := fmt.Sprintf("purchases=%d spent=%.2f", m["purchases"], m["total_spent"])
			if prev, ok := got[k]; ok && prev != val {
				diffs = append(diffs, fmt.Sprintf("%s published as %s, then as %s", k, prev, val))
			}
			got[k] = val
		}
		for k, w := range want {
			if g := got[k]; g != w {
				diffs = append(diffs, fmt.Sprintf("%s: got %q, want %q", k, g, w))
			}
		}
		for k, g := range got {
			if _, ok := want[k]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s published (%s) but not closed", k, g))
			}
		}
		if len(diffs) == 0 || time.Now().After(deadline) {
			slices.Sort(diffs)
			return diffs, len(outs)
		}
	}
}

func sameStats(a, b testkit.UserStats) bool {
	return a.UserID == b.UserID && a.Events == b.Events && a.Purchases == b.Purchases && a.TotalSpent == b.TotalSpent &&
		a.LastEventType == b.LastEventType && a.LastTS == b.LastTS &&
		((a.LastCountry == nil && b.LastCountry == nil) || (a.LastCountry != nil && b.LastCountry != nil && *a.LastCountry == *b.LastCountry))
}

// checkLastOutputs compares the last output per user with want and returns
// the outputs read and how many users differ.
func checkLastOutputs(t *testing.T, brokers []string, client codecs.Registry, topic string, want map[string]testkit.UserStats) ([]*kgo.Record, int) {
	t.Helper()
	outs := readUntilQuiet(t, brokers, topic)
	dec := avroDecoder(t, client, "../../schemas/user_stats.avsc")
	last := map[string]testkit.UserStats{}
	for _, r := range outs {
		v, err := dec.Decode(r.Value)
		if err != nil {
			t.Fatalf("decoding output: %v", err)
		}
		b, _ := json.Marshal(codecs.ToJSON(v))
		var s testkit.UserStats
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		last[string(r.Key)] = s
	}
	missing := 0
	for key, w := range want {
		if !sameStats(last[key], w) {
			missing++
			if missing <= 3 {
				t.Errorf("last output of %s: %+v, want %+v", key, last[key], w)
			}
		}
	}
	return outs, missing
}

// readUntilQuiet reads a topic from the start until no record arrives for 3s.
func readUntilQuiet(t *testing.T, brokers []string, topic string) []*kgo.Record {
	t.Helper()
	cl := testkit.Client(t, brokers, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	var out []*kgo.Record
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		recs := fs.Records()
		if len(recs) == 0 {
			return out
		}
		out = append(out, recs...)
	}
}

func registryClient(t *testing.T, url string) *regclient.Client {
	t.Helper()
	c, err := regclient.New(regclient.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func encoders(t *testing.T, client codecs.Registry, topic string) (v1, v2 demo.Encoder) {
	t.Helper()
	mk := func(path string) demo.Encoder {
		schemas := codecs.NewSchemas()
		s, err := schemas.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := codecs.NewAvro(client, schemas, s, codecs.WithSubject(topic, codecs.TopicNameStrategy))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Register(context.Background()); err != nil {
			t.Fatal(err)
		}
		return c.Encode
	}
	return mk("../../testdata/schemas/user_event_v1.avsc"), mk("../../schemas/user_event.avsc")
}

func avroDecoder(t *testing.T, client codecs.Registry, path string) *codecs.Avro {
	t.Helper()
	schemas := codecs.NewSchemas()
	s, err := schemas.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codecs.NewAvro(client, schemas, s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
