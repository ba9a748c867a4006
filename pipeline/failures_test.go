package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/registry"
)

// TestRegistryOutage stops the schema registry while messages framed with a
// writer schema the pipelines have not seen yet arrive: the partitions hold
// (nothing processed, nothing dead-lettered, waiting shown) until the
// registry is back, and then everything is processed exactly.
func TestRegistryOutage(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	reg := newTestRegistry(t, registry.NewMemoryStore())
	cfg, names := referenceConfigAt(t, brokers, reg.url())
	testkit.CreateTopic(t, brokers, names.input, 6, nil)
	v1, v2 := userEventCodecs(t, reg.url(), names.input)

	// Batch 1: every frame, poison included, carries the v1 id (or an
	// unknown one), so the pipelines never ask for v2 before the outage.
	seed := testkit.Seed(t)
	events1 := demo.GenerateEvents(seed, 2000, 40, 0.03)
	for i := range events1 {
		events1[i].V1, events1[i].Country = true, nil
	}
	records1, err := demo.Records(names.input, events1, v1, v1, 999999)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, records1)

	rt, stop := startRuntime(t, cfg, pipeline.Options{Brokers: brokers, RegistryURL: reg.url()})
	defer stop()
	us1 := waitConsumed(t, rt, names.stats, int64(len(events1)), 2*time.Minute)
	bp1 := waitConsumed(t, rt, names.big, int64(len(events1)), 2*time.Minute)
	c1 := testkit.CountEvents(events1)
	if us1.DeadLettered != int64(c1.Poison+c1.Negative) || bp1.DeadLettered != int64(c1.Poison) {
		t.Fatalf("batch 1: user-stats %+v, big-purchases %+v; want dead-lettered %d and %d", us1, bp1, c1.Poison+c1.Negative, c1.Poison)
	}

	// Batch 2, framed with v2, produced while the registry is down. Its
	// poison needs the registry to be recognised (an unknown id or a broken
	// v2 payload), so every message of it must wait.
	reg.stop()
	events2 := demo.GenerateEvents(seed+1, 2000, 40, 0.03)
	for i := range events2 {
		events2[i].V1 = false
		switch events2[i].Poison {
		case "null", "empty", "short", "magic":
			events2[i].Poison = "unknown-id"
		}
	}
	// Another unknown id than batch 1's: the codec remembers the registry's
	// definitive "not found" for 999999, and would dead-letter it again
	// without asking.
	records2, err := demo.Records(names.input, events2, v2, v2, 999998)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, records2)

	testkit.EventuallyValue(t, time.Minute, "both pipelines to show waiting", func() ([2]pipeline.Counts, bool) {
		us, _ := rt.Counts(names.stats)
		bp, _ := rt.Counts(names.big)
		return [2]pipeline.Counts{us, bp}, us.Waiting && bp.Waiting
	})
	// A negative check, so a bounded one: for 10 s of outage (many hold
	// retries), nothing is processed or dead-lettered and both keep waiting.
	type both struct{ UserStats, BigPurchases pipeline.Counts }
	testkit.Consistently(t, 10*time.Second, fmt.Sprintf("counts to stay at batch 1's (user-stats %+v, big-purchases %+v) and both pipelines to keep waiting while the registry is down", us1, bp1),
		func() (both, bool) {
			us, _ := rt.Counts(names.stats)
			bp, _ := rt.Counts(names.big)
			same := us.Consumed == us1.Consumed && us.DeadLettered == us1.DeadLettered && bp.Consumed == bp1.Consumed && bp.DeadLettered == bp1.DeadLettered
			return both{us, bp}, same && us.Waiting && bp.Waiting
		})
	if n := testkit.TopicSize(t, brokers, names.dlq); n != int64(2*c1.Poison+c1.Negative) {
		t.Fatalf("%d dead letters while the registry was down, want %d (batch 1 only)", n, 2*c1.Poison+c1.Negative)
	}
	st := rt.Status(context.Background())
	if len(st) != len(cfg.Pipelines) {
		t.Errorf("status while holding: %d pipelines, want %d", len(st), len(cfg.Pipelines))
	}
	for _, s := range st {
		if s.Phase != pipeline.PhaseRunning {
			t.Errorf("status of %s while holding: phase %s, want %s", s.Name, s.Phase, pipeline.PhaseRunning)
		}
	}

	reg.start()
	total := int64(len(events1) + len(events2))
	us := waitConsumed(t, rt, names.stats, total, 2*time.Minute)
	bp := waitConsumed(t, rt, names.big, total, 2*time.Minute)
	all := append(append([]demo.Event(nil), events1...), events2...)
	c := testkit.CountEvents(all)
	t.Logf("user-stats %+v; big-purchases %+v; %+v", us, bp, c)
	if us.Consumed != total || us.DeadLettered != int64(c.Poison+c.Negative) || us.Filtered != int64(c.Heartbeat) ||
		us.Consumed != us.Processed+us.Filtered+us.DeadLettered {
		t.Errorf("user-stats counts %+v, want consumed %d, dead-lettered %d, filtered %d", us, total, c.Poison+c.Negative, c.Heartbeat)
	}
	if bp.Consumed != total || bp.DeadLettered != int64(c.Poison) || bp.Processed != int64(c.Big) ||
		bp.Consumed != bp.Processed+bp.Filtered+bp.DeadLettered {
		t.Errorf("big-purchases counts %+v, want consumed %d, dead-lettered %d, processed %d", bp, total, c.Poison, c.Big)
	}
	if us.Waiting || bp.Waiting {
		t.Errorf("still waiting after the registry came back: user-stats %+v, big-purchases %+v", us, bp)
	}
	// A wait for the registry is not a retry: the held messages count waits.
	if us.Waits == 0 || bp.Waits == 0 || us.Retries != 0 || bp.Retries != 0 {
		t.Errorf("holding counted as retries or not as waits: user-stats %+v, big-purchases %+v", us, bp)
	}

	dlq := testkit.ReadAll(t, brokers, names.dlq, 2*c.Poison+c.Negative, time.Minute)
	checkDeadLetters(t, dlq, append(records1, records2...), names, c.Poison, c.Negative)
	if n := testkit.TopicSize(t, brokers, names.dlq); n != int64(2*c.Poison+c.Negative) {
		t.Errorf("%d dead letters, want %d", n, 2*c.Poison+c.Negative)
	}

	want := testkit.ExpectUserStats(all)
	compareStats(t, "table", want, tableStates(t, rt, names.stats, want))
}

// TestBrokerRestart stops the embedded broker (and its registry) under
// running pipelines and starts it again on the same data directory and
// ports: the processors are restarted and nothing is lost.
func TestBrokerRestart(t *testing.T) {
	if testkit.External() {
		t.Skip("SLUICE_TEST_BROKERS is set: a test cannot stop and restart an external broker; this test needs the embedded one")
	}
	dir := t.TempDir()
	ecfg := devenv.Config{KafkaAddr: "127.0.0.1:0", RegistryAddr: "127.0.0.1:0", DataDir: dir}
	env, err := devenv.Start(t.Context(), ecfg)
	if err != nil {
		t.Fatalf("devenv: %v", err)
	}
	// The restart binds the ports this first start got, which the test owned
	// until it stopped the broker: the pipelines must find the broker and the
	// registry where they left them.
	ecfg.KafkaAddr, ecfg.RegistryAddr = env.Brokers()[0], strings.TrimPrefix(env.RegistryURL(), "http://")
	closeEnv := func(env *devenv.Env) {
		if err := env.Close(); err != nil {
			t.Errorf("devenv: %v", err)
		}
	}
	cfg, names := referenceConfig(t, env)
	brokers := env.Brokers()
	testkit.CreateTopic(t, brokers, names.input, 6, nil)
	v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)

	seed := testkit.Seed(t)
	events1 := demo.GenerateEvents(seed, 1500, 40, 0.03)
	records1, err := demo.Records(names.input, events1, v1, v2, 999999)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, records1)

	restarts := newRestartLog(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt, stop := startRuntime(t, cfg, pipeline.Options{StateDir: t.TempDir(), RestartBackoff: 500 * time.Millisecond, Logger: slog.New(restarts)})
	stopped := false
	defer func() {
		if !stopped {
			stop()
		}
	}()
	waitConsumed(t, rt, names.stats, int64(len(events1)), 2*time.Minute)
	waitConsumed(t, rt, names.big, int64(len(events1)), 2*time.Minute)
	// Batch 1 committed, so the restart redelivers nothing of it unless the
	// broker lost the group's offsets.
	testkit.WaitLagZero(t, brokers, names.statsGroup, names.input, time.Minute)
	testkit.WaitLagZero(t, brokers, names.bigGroup, names.input, time.Minute)

	before := restarts.counts(names.stats, names.big)
	closeEnv(env)
	testkit.EventuallyValue(t, time.Minute, "both pipelines to notice the broker is gone (phase "+pipeline.PhaseRestarting+")", func() ([]string, bool) {
		var phases []string
		for _, st := range rt.Status(context.Background()) {
			phases = append(phases, st.Name+" "+st.Phase)
		}
		return phases, !slices.ContainsFunc(phases, func(p string) bool { return !strings.HasSuffix(p, " "+pipeline.PhaseRestarting) })
	})
	// The outage lasts until each pipeline has also failed a restart with
	// the broker still away (a second restart logged since the broker went).
	testkit.EventuallyValue(t, time.Minute, fmt.Sprintf("each pipeline to fail a restart while the broker is down (two restarts logged since %v)", before), func() (map[string]int, bool) {
		now := restarts.counts(names.stats, names.big)
		return now, now[names.stats] >= before[names.stats]+2 && now[names.big] >= before[names.big]+2
	})
	env, err = devenv.Start(t.Context(), ecfg)
	if err != nil {
		t.Fatalf("restarting devenv on %s: %v", dir, err)
	}
	defer closeEnv(env)

	events2 := demo.GenerateEvents(seed+1, 1500, 40, 0.03)
	records2, err := demo.Records(names.input, events2, v1, v2, 999999)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, records2)
	testkit.WaitLagZero(t, brokers, names.statsGroup, names.input, 2*time.Minute)
	testkit.WaitLagZero(t, brokers, names.bigGroup, names.input, 2*time.Minute)

	all := append(append([]demo.Event(nil), events1...), events2...)
	sent := append(records1, records2...)
	c := testkit.CountEvents(all)
	us, _ := rt.Counts(names.stats)
	bp, _ := rt.Counts(names.big)
	t.Logf("after the restart: user-stats %+v; big-purchases %+v; %+v", us, bp, c)
	// Messages not committed before the outage are consumed again, so the
	// counters may exceed the sent count; they never fall short of it.
	if us.Consumed < int64(len(all)) || bp.Consumed < int64(len(all)) {
		t.Errorf("consumed fewer than the %d sent: user-stats %+v, big-purchases %+v", len(all), us, bp)
	}

	// user-stats is exact across the restart: the table and the last output per key.
	want := testkit.ExpectUserStats(all)
	compareStats(t, "table", want, tableStates(t, rt, names.stats, want))
	compareStats(t, "last output", want, lastOutputs(t, env.RegistryURL(), testkit.ReadToEnd(t, brokers, names.stats)))

	// big-purchases is at-least-once: every expected output is there, in
	// order per key once repeats are removed, and nothing else.
	wantBig := testkit.ExpectBigPurchases(all)
	gotBig := map[string][]testkit.BigPurchase{}
	for _, r := range testkit.ReadToEnd(t, brokers, names.big) {
		var b testkit.BigPurchase
		if err := json.Unmarshal(r.Value, &b); err != nil {
			t.Fatalf("big-purchases output %q: %v", r.Value, err)
		}
		gotBig[string(r.Key)] = append(gotBig[string(r.Key)], b)
	}
	for k, w := range wantBig {
		if !coversInOrder(gotBig[k], w) {
			t.Errorf("big-purchases of %s: got %d outputs %+v, want at least %+v in order", k, len(gotBig[k]), gotBig[k], w)
		}
	}
	for k := range gotBig {
		if _, ok := wantBig[k]; !ok {
			t.Errorf("big-purchases for %s, which made none", k)
		}
	}

	// Dead letters: each expected one at least once, nothing else.
	wantDLQ := map[string]bool{}
	for i, e := range all {
		r := sent[i]
		pos := strconv.Itoa(int(r.Partition)) + "/" + strconv.FormatInt(r.Offset, 10)
		switch e.Kind {
		case demo.KindPoison:
			wantDLQ[names.stats+"@"+pos] = true
			wantDLQ[names.big+"@"+pos] = true
		case demo.KindNegative:
			wantDLQ[names.stats+"@"+pos] = true
		}
	}
	gotDLQ := map[string]bool{}
	for _, d := range testkit.ReadToEnd(t, brokers, names.dlq) {
		k := mustHeader(t, d, deadletter.HeaderPipeline) + "@" + mustHeader(t, d, deadletter.HeaderSourcePartition) + "/" + mustHeader(t, d, deadletter.HeaderSourceOffset)
		if !wantDLQ[k] {
			t.Errorf("unexpected dead letter %s", k)
		}
		gotDLQ[k] = true
	}
	if len(gotDLQ) != len(wantDLQ) {
		t.Errorf("%d distinct dead letters, want %d", len(gotDLQ), len(wantDLQ))
	}
	stop()
	stopped = true
}

// coversInOrder reports whether got, with consecutive repeats of a run of
// outputs removed, is want: every element of want appears, in order, and got
// holds nothing else. A redelivery after a crash repeats a suffix of what
// was emitted before it, so got is want with some stretches written twice.
func coversInOrder(got, want []testkit.BigPurchase) bool {
	same := func(a, b testkit.BigPurchase) bool {
		return a.UserID == b.UserID && a.Amount == b.Amount && sameCountry(a.Country, b.Country)
	}
	// Walk got; each element must be want[j] (advance) or an element of
	// want already seen (a repeat).
	j := 0
	for _, g := range got {
		if j < len(want) && same(g, want[j]) {
			j++
			continue
		}
		repeat := false
		for i := 0; i < j; i++ {
			if same(g, want[i]) {
				repeat = true
				break
			}
		}
		if !repeat {
			return false
		}
	}
	return j == len(want)
}

// flakyStep is a custom step that fails transiently: the first failures[key]
// attempts at each message of key, and always for the doomed key. It counts
// the attempts at every message.
type flakyStep struct {
	doomed   string
	failures map[string]int

	mu       sync.Mutex
	attempts map[string]int // "key@partition/offset"
}

func (f *flakyStep) factory(spec *processors.Spec) (processors.Step, error) {
	f.doomed = spec.Config.String()
	return processors.StepFunc(func(_ context.Context, m *processors.Message) (processors.Result, error) {
		id := fmt.Sprintf("%s@%d/%d", m.Key(), m.Meta().Partition, m.Meta().Offset)
		f.mu.Lock()
		f.attempts[id]++
		n := f.attempts[id]
		f.mu.Unlock()
		if m.Key() == f.doomed {
			return processors.Continue, processors.Transient(fmt.Errorf("%s is doomed (attempt %d)", id, n))
		}
		if n <= f.failures[m.Key()] {
			return processors.Continue, processors.Transient(fmt.Errorf("%s flaked (attempt %d)", id, n))
		}
		return processors.Continue, nil
	}), nil
}

// TestRetryCustomStep runs a custom step that fails transiently: messages
// succeed after their retries in key order, and the doomed ones are
// dead-lettered as exhausted after the configured attempts.
func TestRetryCustomStep(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	flaky := &flakyStep{
		failures: map[string]int{"k1": 1, "k2": 2, "k3": 3, "k4": 0, "k5": 1, "k6": 0},
		attempts: map[string]int{},
	}
	reg := processors.NewRegistry()
	if err := reg.Register("flaky", flaky.factory); err != nil {
		t.Fatal(err)
	}
	u := testkit.Unique("retry")
	input, output, dlqTopic := u+"-in", u+"-out", u+"-dlq"
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %s
  partitions: 3
  heartbeat: 100ms
  session_timeout: 6s
pipelines:
  - name: %s
    input: {topic: %s, codec: json}
    dead_letter: %s
    retry: {attempts: 4, initial_backoff: 10ms, max_backoff: 50ms}
    outputs:
      out: {topic: %s, codec: json}
    steps:
      - flaky: doomed
      - emit: out
`, strings.Join(brokers, ","), u, input, dlqTopic, output)
	cfg, err := pipeline.Parse("retry.yaml", []byte(testkit.SecureConfig(src)), pipeline.WithSteps(reg))
	if err != nil {
		t.Fatal(err)
	}
	if flaky.doomed != "doomed" {
		t.Fatalf("the step read %q from its config, want doomed", flaky.doomed)
	}
	testkit.CreateTopic(t, brokers, input, 3, nil)

	// Interleave the keys: seq counts per key from 0.
	keys := []string{"k1", "k2", "k3", "k4", "k5", "k6", "doomed"}
	const perKey = 25
	var records []*kgo.Record
	for i := range perKey {
		for _, k := range keys {
			v, _ := json.Marshal(map[string]any{"key": k, "seq": i})
			records = append(records, &kgo.Record{Topic: input, Key: []byte(k), Value: v})
		}
	}
	testkit.Produce(t, brokers, records)

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	cnt := waitConsumed(t, rt, u, int64(len(records)), 2*time.Minute)

	good := perKey * (len(keys) - 1)
	wantRetries := int64(perKey * 3) // each doomed message: attempts 2, 3 and 4
	for _, k := range keys[:len(keys)-1] {
		wantRetries += int64(perKey * flaky.failures[k])
	}
	t.Logf("counts %+v", cnt)
	if cnt.Consumed != int64(len(records)) || cnt.Processed != int64(good) || cnt.DeadLettered != perKey || cnt.Filtered != 0 ||
		cnt.Consumed != cnt.Processed+cnt.Filtered+cnt.DeadLettered {
		t.Errorf("counts %+v, want consumed %d = processed %d + dead-lettered %d", cnt, len(records), good, perKey)
	}
	if cnt.Retries != wantRetries {
		t.Errorf("retries %d, want %d", cnt.Retries, wantRetries)
	}
	if cnt.Waiting {
		t.Errorf("waiting after a custom step's transient errors: %+v", cnt)
	}

	// Every good message once, per key in order.
	seqs := map[string][]int{}
	for _, r := range testkit.ReadAll(t, brokers, output, good, time.Minute) {
		var v struct {
			Key string `json:"key"`
			Seq int    `json:"seq"`
		}
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("output %q: %v", r.Value, err)
		}
		if v.Key != string(r.Key) {
			t.Errorf("output keyed %q holds key %q", r.Key, v.Key)
		}
		seqs[string(r.Key)] = append(seqs[string(r.Key)], v.Seq)
	}
	if n := testkit.TopicSize(t, brokers, output); n != int64(good) {
		t.Errorf("%d outputs, want %d", n, good)
	}
	for _, k := range keys[:len(keys)-1] {
		got := seqs[k]
		ok := len(got) == perKey
		for i := 0; ok && i < perKey; i++ {
			ok = got[i] == i
		}
		if !ok {
			t.Errorf("outputs of %s: %v, want 0..%d once each in order", k, got, perKey-1)
		}
	}
	if len(seqs["doomed"]) != 0 {
		t.Errorf("doomed messages were emitted: %v", seqs["doomed"])
	}

	// Every doomed message dead-lettered as exhausted after 4 attempts.
	dlq := testkit.ReadAll(t, brokers, dlqTopic, perKey, time.Minute)
	if n := testkit.TopicSize(t, brokers, dlqTopic); n != perKey {
		t.Errorf("%d dead letters, want %d", n, perKey)
	}
	var dseq []int
	for _, d := range dlq {
		if string(d.Key) != "doomed" {
			t.Errorf("dead letter of key %q", d.Key)
		}
		for k, want := range map[string]string{
			deadletter.HeaderPipeline: u, deadletter.HeaderStage: "flaky", deadletter.HeaderKind: deadletter.KindExhausted,
			deadletter.HeaderAttempts: "4", deadletter.HeaderSourceTopic: input,
		} {
			if got := mustHeader(t, d, k); got != want {
				t.Errorf("dead letter header %s = %q, want %q", k, got, want)
			}
		}
		if msg := mustHeader(t, d, deadletter.HeaderMessage); !strings.Contains(msg, "doomed (attempt 4)") {
			t.Errorf("dead letter message %q, want the 4th attempt's error", msg)
		}
		var v struct {
			Seq int `json:"seq"`
		}
		if err := json.Unmarshal(d.Value, &v); err != nil {
			t.Fatalf("dead letter value %q: %v", d.Value, err)
		}
		dseq = append(dseq, v.Seq)
	}
	for i, s := range dseq {
		if s != i {
			t.Errorf("dead letters of doomed in order %v, want 0..%d", dseq, perKey-1)
			break
		}
	}

	flaky.mu.Lock()
	defer flaky.mu.Unlock()
	perKeyAttempts := map[string]int{}
	for id, n := range flaky.attempts {
		k := id[:strings.IndexByte(id, '@')]
		want := flaky.failures[k] + 1
		if k == "doomed" {
			want = 4
		}
		if n != want {
			t.Errorf("%s tried %d times, want %d", id, n, want)
		}
		perKeyAttempts[k]++
	}
	for _, k := range keys {
		if perKeyAttempts[k] != perKey {
			t.Errorf("%d messages of %s reached the step, want %d", perKeyAttempts[k], k, perKey)
		}
	}
}

// TestRandomFrames feeds user-stats 10,000 frames that cannot decode: all
// are dead-lettered at decode with their bytes intact, and a valid event
// after them is still processed.
func TestRandomFrames(t *testing.T) {
	env := testkit.Env(t)
	cfg, names := referenceConfig(t, env)
	// Every message here is poison: that is what the dead-letter breaker
	// stops by default (TestDeadLetterBreaker); this test is about
	// classifying frames, so the breaker is off.
	cfg.Pipeline(names.stats).Breaker.Off = true
	brokers := env.Brokers()
	testkit.CreateTopic(t, brokers, names.input, 6, nil)
	v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)

	// A decoder like the pipeline's, on the same registry, vets every frame:
	// one that decodes is replaced, so none of the 10,000 can be valid.
	check := avroReader(t, env.RegistryURL(), "../schemas/user_event.avsc")
	rng := rand.New(rand.NewPCG(testkit.Seed(t), 0x5eed))
	frames := newFrameMaker(rng, v1, v2)
	const n = 10000
	shapes := map[string]int{}
	records := make([]*kgo.Record, 0, n+1)
	for len(records) < n {
		shape, value, err := frames.next()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := check.Decode(value); err == nil {
			shapes["rejected-"+shape]++
			continue
		} else if codecs.IsUnavailable(err) {
			t.Fatalf("vetting a %s frame: %v", shape, err)
		}
		shapes[shape]++
		var key []byte
		if rng.IntN(20) > 0 {
			key = []byte("rand-" + strconv.Itoa(rng.IntN(97)))
		}
		records = append(records, &kgo.Record{Topic: names.input, Key: key, Value: value})
	}
	t.Logf("frame shapes: %v", shapes)
	survivor := demo.Event{Key: "survivor", Kind: demo.KindValid, EventType: "purchase", Amount: 12.5, TS: 1790000000000}
	good, err := v2(survivor.Fields())
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, records)
	// Produced after the garbage: it lands behind it in its partition.
	last := &kgo.Record{Topic: names.input, Key: []byte(survivor.Key), Value: good}
	testkit.Produce(t, brokers, []*kgo.Record{last})

	rt, stop := startRuntime(t, cfg, pipeline.Options{Only: []string{names.stats}})
	defer stop()
	cnt := waitConsumed(t, rt, names.stats, n+1, 2*time.Minute)
	t.Logf("counts %+v", cnt)
	if cnt.Consumed != n+1 || cnt.DeadLettered != n || cnt.Processed != 1 || cnt.Filtered != 0 ||
		cnt.Consumed != cnt.Processed+cnt.Filtered+cnt.DeadLettered {
		t.Errorf("counts %+v, want consumed %d = processed 1 + dead-lettered %d", cnt, n+1, n)
	}
	if cnt.Retries != 0 || cnt.Waits != 0 || cnt.Waiting {
		t.Errorf("poison was retried or held: %+v", cnt)
	}
	s, err := rt.State(names.stats, survivor.Key)
	if err != nil {
		t.Fatalf("state of %s: %v", survivor.Key, err)
	}
	compareStats(t, "table", testkit.ExpectUserStats([]demo.Event{survivor}), map[string]map[string]any{survivor.Key: s})

	byPos := map[string]*kgo.Record{}
	for _, r := range records {
		byPos[strconv.Itoa(int(r.Partition))+"/"+strconv.FormatInt(r.Offset, 10)] = r
	}
	dlq := testkit.ReadAll(t, brokers, names.dlq, n, 2*time.Minute)
	if size := testkit.TopicSize(t, brokers, names.dlq); size != n {
		t.Errorf("%d dead letters, want %d", size, n)
	}
	seen := map[string]bool{}
	bad := 0
	for _, d := range dlq {
		pos := mustHeader(t, d, deadletter.HeaderSourcePartition) + "/" + mustHeader(t, d, deadletter.HeaderSourceOffset)
		orig := byPos[pos]
		stage, kind, attempts := mustHeader(t, d, deadletter.HeaderStage), mustHeader(t, d, deadletter.HeaderKind), mustHeader(t, d, deadletter.HeaderAttempts)
		id, hasID := testkit.Header(d, deadletter.HeaderSchemaID)
		var problems []string
		switch {
		case orig == nil:
			problems = append(problems, "points at no sent frame")
		case seen[pos]:
			problems = append(problems, "dead-lettered twice")
		default:
			if !bytes.Equal(orig.Key, d.Key) || !bytes.Equal(orig.Value, d.Value) || (orig.Value == nil) != (d.Value == nil) {
				problems = append(problems, fmt.Sprintf("bytes differ: key %q/%q value %x/%x", orig.Key, d.Key, orig.Value, d.Value))
			}
			wantID, ok := codecs.FrameSchemaID(orig.Value)
			if ok != hasID || (ok && id != strconv.Itoa(wantID)) {
				problems = append(problems, fmt.Sprintf("schema id header %q (present %v) for frame %x", id, hasID, orig.Value))
			}
		}
		if stage != deadletter.StageDecode || kind != deadletter.KindPoison || attempts != "1" {
			problems = append(problems, fmt.Sprintf("stage %q kind %q attempts %q", stage, kind, attempts))
		}
		seen[pos] = true
		if len(problems) > 0 {
			if bad++; bad <= 10 {
				t.Errorf("dead letter from %s: %s", pos, strings.Join(problems, "; "))
			}
		}
	}
	if bad > 10 {
		t.Errorf("... %d bad dead letters in all", bad)
	}
}

// frameMaker makes undecodable user-topic values of many shapes.
type frameMaker struct {
	rng    *rand.Rand
	v1, v2 demo.Encoder
	i      int
}

func newFrameMaker(rng *rand.Rand, v1, v2 demo.Encoder) *frameMaker {
	return &frameMaker{rng: rng, v1: v1, v2: v2}
}

func (f *frameMaker) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(f.rng.UintN(256))
	}
	return b
}

// valid returns a valid frame of a random event, written by v1 or v2.
func (f *frameMaker) valid() ([]byte, error) {
	c := "KR"
	e := demo.Event{
		Key: "u-" + strconv.Itoa(f.rng.IntN(1000)), EventType: []string{"login", "purchase", "signup"}[f.rng.IntN(3)],
		Amount: float64(f.rng.IntN(100000)) / 100, TS: 1790000000000 + f.rng.Int64N(1e9), V1: f.rng.IntN(2) == 0,
	}
	if !e.V1 && f.rng.IntN(2) == 0 {
		e.Country = &c
	}
	enc := f.v2
	if e.V1 {
		enc = f.v1
	}
	return enc(e.Fields())
}

// next returns one frame and the name of its shape. Shapes: null, empty,
// short (1-4 bytes), bad magic (random bytes, first byte not 0), unknown id
// (magic 0 and an id at or above 2^20 or negative: this test's registry
// numbers its three schemas from 1), truncated valid frames, valid headers
// over random payloads, and valid frames with a byte flipped. The last two
// can decode by chance; the caller vets every frame.
func (f *frameMaker) next() (string, []byte, error) {
	f.i++
	switch f.i % 8 {
	case 0:
		return "null", nil, nil
	case 1:
		return "empty", []byte{}, nil
	case 2:
		return "short", f.bytes(1 + f.rng.IntN(4)), nil
	case 3:
		b := f.bytes(5 + f.rng.IntN(60))
		b[0] = byte(1 + f.rng.IntN(255))
		return "bad-magic", b, nil
	case 4:
		b := f.bytes(5 + f.rng.IntN(60))
		id := uint32(1<<20 + f.rng.IntN(1<<30))
		if f.rng.IntN(4) == 0 {
			id = uint32(-int32(1 + f.rng.IntN(1<<30)))
		}
		b[0], b[1], b[2], b[3], b[4] = 0, byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
		return "unknown-id", b, nil
	}
	good, err := f.valid()
	if err != nil {
		return "", nil, fmt.Errorf("encoding a valid frame: %w", err)
	}
	switch f.i % 8 {
	case 5:
		return "truncated", good[:5+f.rng.IntN(len(good)-5)], nil
	case 6:
		return "random-payload", append(good[:5:5], f.bytes(f.rng.IntN(40))...), nil
	default:
		b := append([]byte(nil), good...)
		i := 5 + f.rng.IntN(len(b)-5)
		b[i] ^= byte(1 + f.rng.IntN(255))
		return "flipped", b, nil
	}
}

// gateStep stands for a dependency per key: it fails with a codecs transient
// error (what a registry outage looks like, so the partition is held) until
// the test opens the key's gate, then transiently as a flaky step for the
// first flakes attempts, then succeeds.
type gateStep struct {
	flakes int

	mu    sync.Mutex
	open  map[string]bool
	holds map[string]int // per key@partition/offset
	tries map[string]int
}

func (g *gateStep) factory(*processors.Spec) (processors.Step, error) {
	return processors.StepFunc(func(_ context.Context, m *processors.Message) (processors.Result, error) {
		id := fmt.Sprintf("%s@%d/%d", m.Key(), m.Meta().Partition, m.Meta().Offset)
		g.mu.Lock()
		defer g.mu.Unlock()
		if !g.open[m.Key()] {
			g.holds[id]++
			return processors.Continue, &codecs.Error{Unavailable: true, Op: "decode", Err: fmt.Errorf("dependency of %s is down", m.Key())}
		}
		g.tries[id]++
		if g.tries[id] <= g.flakes {
			return processors.Continue, processors.Transient(fmt.Errorf("%s flaked after the outage (try %d)", id, g.tries[id]))
		}
		return processors.Continue, nil
	}), nil
}

// calls counts every call of the step so far.
func (g *gateStep) calls() int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	var n int64
	for _, c := range g.holds {
		n += int64(c)
	}
	for _, c := range g.tries {
		n += int64(c)
	}
	return n
}

func (g *gateStep) openKeys(keys ...string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, k := range keys {
		g.open[k] = true
	}
}

// TestOutageHoldsPerPartition holds every partition on a dependency, then
// lets them go one partition at a time: the pipeline shows waiting while any
// partition is still held, and a message that was held many times still gets
// all its retries for a transient error after the hold.
func TestOutageHoldsPerPartition(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	const attempts = 3
	gate := &gateStep{flakes: attempts - 1, open: map[string]bool{}, holds: map[string]int{}, tries: map[string]int{}}
	reg := processors.NewRegistry()
	if err := reg.Register("gate", gate.factory); err != nil {
		t.Fatal(err)
	}
	u := testkit.Unique("holds")
	input, output, dlqTopic := u+"-in", u+"-out", u+"-dlq"
	cfg := gateConfig(t, brokers, reg, u, attempts)
	testkit.CreateTopic(t, brokers, input, 3, nil)
	var records []*kgo.Record
	for i := range 30 {
		k := "key-" + strconv.Itoa(i%10)
		v, _ := json.Marshal(map[string]any{"key": k, "seq": i})
		records = append(records, &kgo.Record{Topic: input, Key: []byte(k), Value: v})
	}
	testkit.Produce(t, brokers, records)
	byPart := map[int32][]string{}
	perPart := map[int32]int{}
	seenKey := map[string]bool{}
	for _, r := range records {
		perPart[r.Partition]++
		if !seenKey[string(r.Key)] {
			seenKey[string(r.Key)] = true
			byPart[r.Partition] = append(byPart[r.Partition], string(r.Key))
		}
	}
	if len(byPart) < 2 {
		t.Fatalf("the keys landed on %d partition(s); the test needs two or more", len(byPart))
	}

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	// Every partition is held on its first message, which is held more
	// often than it may be tried.
	testkit.EventuallyValue(t, time.Minute, fmt.Sprintf("the first message of each of %d partitions to be held more than %d times", len(byPart), 2*attempts), func() (map[string]int, bool) {
		gate.mu.Lock()
		defer gate.mu.Unlock()
		heads := 0
		for _, n := range gate.holds {
			if n > 2*attempts {
				heads++
			}
		}
		return maps.Clone(gate.holds), heads == len(byPart)
	})
	if c, _ := rt.Counts(u); !c.Waiting || c.Consumed != 0 {
		t.Fatalf("counts while every partition is held: %+v", c)
	}

	// Open one partition at a time; waiting lasts while any is held.
	var opened int64
	parts := make([]int32, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	for i, p := range parts {
		gate.openKeys(byPart[p]...)
		opened += int64(perPart[p])
		c := waitConsumed(t, rt, u, opened, time.Minute)
		if c.Consumed != opened || c.DeadLettered != 0 {
			t.Fatalf("after opening %d partition(s): %+v, want %d processed and none dead-lettered", i+1, c, opened)
		}
		if last := i == len(parts)-1; last {
			testkit.EventuallyValue(t, 10*time.Second, "waiting to end", func() (pipeline.Counts, bool) {
				c, _ := rt.Counts(u)
				return c, !c.Waiting
			})
		} else if c, _ := rt.Counts(u); !c.Waiting {
			t.Errorf("not waiting after opening %d of %d partitions: %+v", i+1, len(parts), c)
		}
	}
	c, _ := rt.Counts(u)
	t.Logf("counts %+v", c)
	if c.Processed != int64(len(records)) || c.DeadLettered != 0 || c.Consumed != c.Processed+c.Filtered+c.DeadLettered {
		t.Errorf("counts %+v, want all %d processed", c, len(records))
	}
	if n := testkit.TopicSize(t, brokers, dlqTopic); n != 0 {
		t.Errorf("%d dead letters, want none", n)
	}
	if n := len(testkit.ReadAll(t, brokers, output, len(records), time.Minute)); n != len(records) {
		t.Errorf("%d outputs, want %d", n, len(records))
	}
	gate.mu.Lock()
	defer gate.mu.Unlock()
	for id, n := range gate.tries {
		if n != attempts {
			t.Errorf("%s tried %d times after its hold, want %d", id, n, attempts)
		}
	}
}

// gateConfig is a pipeline u reading u-in (JSON) through the gate step to
// u-out, dead-lettering to u-dlq.
func gateConfig(t *testing.T, brokers []string, reg *processors.Registry, u string, attempts int) *pipeline.Config {
	t.Helper()
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %s
  partitions: 3
  heartbeat: 100ms
  session_timeout: 6s
pipelines:
  - name: %s
    input: {topic: %s-in, codec: json}
    dead_letter: %s-dlq
    retry: {attempts: %d, initial_backoff: 5ms, max_backoff: 20ms}
    outputs:
      out: {topic: %s-out, codec: json}
    steps:
      - gate: {}
      - emit: out
`, strings.Join(brokers, ","), u, u, u, attempts, u)
	cfg, err := pipeline.Parse("gate.yaml", []byte(testkit.SecureConfig(src)), pipeline.WithSteps(reg))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestOutageStopWhileHeld stops the runtime while its partitions are held:
// it stops at once, commits nothing, and a new runtime processes the held
// messages when the dependency is back.
func TestOutageStopWhileHeld(t *testing.T) {
	brokers, gate, u, cfg, records, keys := gatedInput(t, "stopheld")

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	testkit.EventuallyValue(t, time.Minute, "the pipeline to wait", func() (pipeline.Counts, bool) {
		c, _ := rt.Counts(u)
		return c, c.Waiting
	})
	stop() // fails the test if the runtime does not stop within 60 s
	c, _ := rt.Counts(u)
	if c.Consumed != 0 || c.Waiting {
		t.Errorf("counts after stopping while held: %+v, want nothing consumed and not waiting", c)
	}
	// Stopped means no callback runs any more. A negative check, bounded:
	// for 1 s (some 50 hold waits at this pipeline's 20 ms backoff) the
	// step is not called and no wait is counted.
	type after struct{ StepCalls, Waits int64 }
	stopped := after{gate.calls(), c.Waits}
	testkit.Consistently(t, time.Second, fmt.Sprintf("no held callback to run after the runtime stopped (at the stop: %+v)", stopped), func() (after, bool) {
		c, _ := rt.Counts(u)
		now := after{gate.calls(), c.Waits}
		return now, now == stopped
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	lag, err := testkit.GroupLag(ctx, brokers, u, u+"-in")
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if lag != int64(len(records)) {
		t.Errorf("group lag %d after stopping while held, want %d: held messages were committed", lag, len(records))
	}

	gate.openKeys(keys...)
	rt2, stop2 := startRuntime(t, cfg, pipeline.Options{})
	defer stop2()
	c2 := waitConsumed(t, rt2, u, int64(len(records)), time.Minute)
	if c2.Processed != int64(len(records)) || c2.DeadLettered != 0 {
		t.Errorf("second runtime: %+v, want all %d processed", c2, len(records))
	}
	if n := len(testkit.ReadAll(t, brokers, u+"-out", len(records), time.Minute)); n != len(records) {
		t.Errorf("%d outputs, want %d", n, len(records))
	}
}
