package pipeline_test

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// TestWrongRegistryHoldsEverything points an Avro pipeline at a server that
// answers a bare 404 to everything: the pipeline does not consume, is not
// ready and says why (status, /readyz, an ERROR log naming the URL without
// its password), while the lag of every input partition stays exported;
// nothing is dead-lettered. Once the URL answers like a registry, every
// message is processed once and none is dead-lettered.
func TestWrongRegistryHoldsEverything(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	reg := newRegistryProxy(t, proxyBare404)
	u := testkit.Unique("wrongreg")
	in := u + "-in"
	cfg := avroPipelineConfig(t, brokers, strings.Replace(reg.url, "http://", "http://alice:s3cret@", 1), u, "on")
	testkit.CreateTopic(t, brokers, in, 3, nil)
	_, v2 := userEventCodecs(t, reg.direct, in)
	const n = 60
	testkit.Produce(t, brokers, userEvents(t, in, v2, 0, n))

	var logs testkit.LogBuffer
	rt, stop := startRuntime(t, cfg, pipeline.Options{Logger: logs.Logger(), CheckInterval: 50 * time.Millisecond, LagInterval: 50 * time.Millisecond})
	defer stop()

	testkit.Eventually(t, time.Minute, "the pipeline to say the registry is wrong, with the lag of all three partitions", func() bool {
		st := status(t, rt, u)
		return st.Phase == pipeline.PhaseChecking && strings.Contains(st.Reason, "does not answer like a schema registry") &&
			st.Lag == n && len(st.LagPartitions) == 3
	})
	st := status(t, rt, u)
	if st.Ready || !strings.Contains(st.Reason, reg.url) || !strings.Contains(st.Reason, "404 Not Found") || strings.Contains(st.Reason, "s3cret") {
		t.Errorf("status while the registry URL is wrong: %+v", st)
	}
	if code, body := get(rt, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "does not answer like a schema registry") {
		t.Errorf("/readyz while the registry URL is wrong: %d %s", code, body)
	}
	_, metrics := get(rt, "/metrics")
	for p := range 3 {
		line := fmt.Sprintf(`sluice_consumer_lag{partition="%d",pipeline="%s",topic="%s"}`, p, u, in)
		if !strings.Contains(metrics, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	// Let it check a few more times: still nothing consumed or dead-lettered.
	asked := reg.asked.Load()
	testkit.Eventually(t, time.Minute, "five more checks against the wrong registry", func() bool { return reg.asked.Load() >= asked+5 })
	if c, _ := rt.Counts(u); c.Consumed != 0 {
		t.Fatalf("consumed while the registry URL was wrong: %+v", c)
	}
	if size := testkit.TopicSize(t, brokers, u+"-dlq"); size != 0 {
		t.Fatalf("%d dead letters while the registry URL was wrong", size)
	}
	log := logs.String()
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "pipeline not ready") || !strings.Contains(log, reg.url) || strings.Contains(log, "s3cret") {
		t.Errorf("the log does not say at ERROR, without the password, that %s is no registry:\n%s", reg.url, log)
	}

	reg.mode.Store(proxyPass)
	c := waitConsumed(t, rt, u, n, 2*time.Minute)
	if c.Consumed != n || c.Processed != n || c.DeadLettered != 0 {
		t.Errorf("counts after the registry URL works: %+v, want all %d processed", c, n)
	}
	amounts := outputAmounts(t, brokers, u+"-out", n)
	for i := range n {
		if amounts[i] != 1 {
			t.Errorf("event %d was emitted %d times, want once", i, amounts[i])
		}
	}
	if size := testkit.TopicSize(t, brokers, u+"-out"); size != n {
		t.Errorf("%d outputs, want %d", size, n)
	}
	if size := testkit.TopicSize(t, brokers, u+"-dlq"); size != 0 {
		t.Errorf("%d dead letters, want none", size)
	}
	testkit.Eventually(t, time.Minute, "the pipeline to be ready with its lag at 0", func() bool {
		st := status(t, rt, u)
		return st.Ready && st.Lag == 0
	})
}

// TestInputSubjectMissing: a pipeline whose input has no subject in the
// registry yet is not ready and says which subject (status, /readyz, a WARN
// naming the registry); once a producer registers the schema and writes,
// it starts and processes everything.
func TestInputSubjectMissing(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	reg := newRegistryProxy(t, proxyPass)
	u := testkit.Unique("nosubject")
	in := u + "-in"
	cfg := avroPipelineConfig(t, brokers, reg.url, u, "on")
	testkit.CreateTopic(t, brokers, in, 3, nil)

	var logs testkit.LogBuffer
	rt, stop := startRuntime(t, cfg, pipeline.Options{Logger: logs.Logger(), CheckInterval: 50 * time.Millisecond})
	defer stop()
	subject := in + "-value"
	testkit.Eventually(t, time.Minute, "the pipeline to say subject "+subject+" is missing", func() bool {
		st := status(t, rt, u)
		return st.Phase == pipeline.PhaseChecking && strings.Contains(st.Reason, "subject "+subject+" does not exist")
	})
	if code, body := get(rt, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, subject) {
		t.Errorf("/readyz without the input subject: %d %s", code, body)
	}
	if code, body := get(rt, "/pipelines/"+u); code != http.StatusOK || !strings.Contains(body, `"phase": "checking"`) || !strings.Contains(body, subject) {
		t.Errorf("/pipelines/%s without the input subject: %d %s", u, code, body)
	}
	log := logs.String()
	if !strings.Contains(log, "level=WARN") || !strings.Contains(log, subject) || !strings.Contains(log, reg.url) {
		t.Errorf("the log does not name the missing subject and the registry:\n%s", log)
	}

	// The producer comes later: it registers the schema and writes.
	_, v2 := userEventCodecs(t, reg.direct, in)
	const n = 20
	testkit.Produce(t, brokers, userEvents(t, in, v2, 0, n))
	c := waitConsumed(t, rt, u, n, 2*time.Minute)
	if c.Processed != n || c.DeadLettered != 0 {
		t.Errorf("counts: %+v, want all %d processed", c, n)
	}
	testkit.Eventually(t, time.Minute, "the pipeline to be ready", func() bool { return status(t, rt, u).Ready })
	if code, body := get(rt, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz once the subject exists: %d %s", code, body)
	}
}

// TestDeadLetterBreaker shows both sides of the dead-letter breaker (ratio
// 0.5, at least 10 messages in the window). A burst of real poison that
// stays below half of the messages is dead-lettered as always. Then the
// registry loses every schema (40403 for every id): the first 9 failures are
// dead-lettered (the evidence the breaker needs), the 10th opens it, and
// from then on every partition is held: /readyz is 503 with the reason, the
// metric and an ERROR log say so, the lag stays exported and nothing more is
// dead-lettered however long it holds. Once the registry is fixed, a held
// message succeeds, the breaker closes, and every held message is processed
// once; none of them is in the dead-letter topic.
func TestDeadLetterBreaker(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	reg := newRegistryProxy(t, proxyPass)
	u := testkit.Unique("breaker")
	in, out, dlq := u+"-in", u+"-out", u+"-dlq"
	cfg := avroPipelineConfig(t, brokers, reg.url, u, "{ratio: 0.5, min_messages: 10, window: 1h}")
	testkit.CreateTopic(t, brokers, in, 3, nil)
	_, v2 := userEventCodecs(t, reg.direct, in)

	// Part 1: 90 good events, a burst of 30 poison frames, 60 good events.
	// In every partition the burst comes after that partition's first good
	// events, so its share of the window never reaches one half.
	batch1 := userEvents(t, in, v2, 0, 90)
	batch1 = append(batch1, poisonFrames(in, 30)...)
	batch1 = append(batch1, userEvents(t, in, v2, 90, 60)...)
	testkit.Produce(t, brokers, batch1)
	var logs1 testkit.LogBuffer
	rt1, stop1 := startRuntime(t, cfg, pipeline.Options{Logger: logs1.Logger()})
	c1 := waitConsumed(t, rt1, u, 180, 2*time.Minute)
	if c1.Consumed != 180 || c1.Processed != 150 || c1.DeadLettered != 30 || c1.Waits != 0 {
		t.Fatalf("part 1 counts %+v, want 150 processed and 30 dead-lettered without holding", c1)
	}
	if st := status(t, rt1, u); st.Breaker == nil || st.Breaker.Open || st.Breaker.Stage != "" {
		t.Fatalf("part 1: the breaker opened on a burst below its ratio: %+v", st.Breaker)
	}
	testkit.WaitLagZero(t, brokers, u, in, time.Minute)
	stop1()
	// Dead letters are logged at WARN with counts, every one of them.
	logged := 0
	for _, m := range regexp.MustCompile(`level=WARN msg="dead-lettered messages" pipeline=\S+ count=(\d+)`).FindAllStringSubmatch(logs1.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		logged += n
	}
	if logged != 30 {
		t.Errorf("the WARN lines count %d dead letters, want 30:\n%s", logged, logs1.String())
	}

	// Part 2: the registry answers 40403 for every schema id; a fresh
	// process (a restart) reads 60 new good events.
	reg.mode.Store(proxyNoSchemas)
	batch2 := userEvents(t, in, v2, 1000, 60)
	testkit.Produce(t, brokers, batch2)
	var logs2 testkit.LogBuffer
	rt2, stop2 := startRuntime(t, cfg, pipeline.Options{Logger: logs2.Logger(), LagInterval: 50 * time.Millisecond})
	defer stop2()
	testkit.Eventually(t, 2*time.Minute, "the breaker to open and hold the partitions", func() bool {
		st := status(t, rt2, u)
		return st.Breaker != nil && st.Breaker.Open && st.Counts.Waiting
	})
	st := status(t, rt2, u)
	if st.Breaker.Stage != deadletter.StageDecode || st.Breaker.Kind != deadletter.KindPoison || st.Ready ||
		!strings.Contains(st.Reason, "dead-letter breaker open") || !strings.Contains(st.Reason, "40403") {
		t.Errorf("status with the breaker open: %+v (breaker %+v)", st, st.Breaker)
	}
	// A dead letter is counted once the broker acknowledged it, which may
	// come after the breaker opened on the next message.
	testkit.EventuallyValue(t, time.Minute, "the 9 dead letters written before the breaker opened to be counted", func() (pipeline.Counts, bool) {
		c := status(t, rt2, u).Counts
		return c, c.Consumed == 9 && c.DeadLettered == 9
	})
	if code, body := get(rt2, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "dead-letter breaker open") {
		t.Errorf("/readyz with the breaker open: %d %s", code, body)
	}
	openMetric := fmt.Sprintf(`sluice_pipeline_breaker_open{kind="poison",pipeline="%s",stage="decode"}`, u)
	if _, metrics := get(rt2, "/metrics"); !strings.Contains(metrics, openMetric+" 1") {
		t.Errorf("/metrics lacks %s 1", openMetric)
	}
	if log := logs2.String(); !strings.Contains(log, `level=ERROR msg="dead-letter breaker open`) {
		t.Errorf("no ERROR log of the breaker opening:\n%s", log)
	}
	testkit.Eventually(t, time.Minute, "the lag of the held messages to be exported", func() bool {
		st := status(t, rt2, u)
		return len(st.LagPartitions) == 3 && st.Lag >= 51
	})
	// Held, not dead-lettered, for as long as it holds.
	testkit.Eventually(t, time.Minute, "the 30 + 9 dead letters to be written", func() bool {
		return testkit.TopicSize(t, brokers, dlq) == 39
	})
	waits := status(t, rt2, u).Counts.Waits
	testkit.Eventually(t, time.Minute, "30 more waits of the held messages", func() bool {
		return status(t, rt2, u).Counts.Waits >= waits+30
	})
	if c, _ := rt2.Counts(u); c.DeadLettered != 9 || c.Consumed != 9 {
		t.Fatalf("counts while the breaker held: %+v, want still the 9 dead letters", c)
	}
	if size := testkit.TopicSize(t, brokers, dlq); size != 39 {
		t.Fatalf("%d dead letters while the breaker held, want 30 + 9", size)
	}

	reg.mode.Store(proxyPass)
	c2 := waitConsumed(t, rt2, u, 60, 2*time.Minute)
	if c2.Consumed != 60 || c2.Processed != 51 || c2.DeadLettered != 9 {
		t.Errorf("counts after the registry was fixed: %+v, want 51 processed and the 9 dead letters", c2)
	}
	testkit.Eventually(t, time.Minute, "the breaker to close and the pipeline to be ready", func() bool {
		st := status(t, rt2, u)
		return !st.Breaker.Open && st.Ready && !st.Counts.Waiting
	})
	if _, metrics := get(rt2, "/metrics"); !strings.Contains(metrics, openMetric+" 0") {
		t.Errorf("/metrics lacks %s 0 after closing", openMetric)
	}
	if log := logs2.String(); !strings.Contains(log, "dead-letter breaker closed") {
		t.Errorf("no log of the breaker closing:\n%s", log)
	}

	// The dead letters: part 1's 30 poison frames and the 9 of part 2, which
	// say 40403; every other event of part 2 was emitted exactly once.
	amountOf := map[string]int{}
	for i, r := range batch2 {
		amountOf[string(r.Value)] = 1000 + i
	}
	letters := testkit.ReadAll(t, brokers, dlq, 39, time.Minute)
	if size := testkit.TopicSize(t, brokers, dlq); size != 39 {
		t.Errorf("%d dead letters, want 39", size)
	}
	misfiled := map[int]bool{}
	for _, d := range letters {
		if stage, kind := mustHeader(t, d, deadletter.HeaderStage), mustHeader(t, d, deadletter.HeaderKind); stage != deadletter.StageDecode || kind != deadletter.KindPoison {
			t.Errorf("dead letter at %s/%s", stage, kind)
		}
		if a, ok := amountOf[string(d.Value)]; ok {
			misfiled[a] = true
			if msg := mustHeader(t, d, deadletter.HeaderMessage); !strings.Contains(msg, "40403") {
				t.Errorf("dead letter of event %d says %q, want the registry's 40403", a, msg)
			}
		}
	}
	if len(misfiled) != 9 {
		t.Errorf("%d dead letters of part 2, want 9", len(misfiled))
	}
	amounts := outputAmounts(t, brokers, out, 150+51)
	for i := range 150 {
		if amounts[i] != 1 {
			t.Errorf("part 1 event %d emitted %d times, want once", i, amounts[i])
		}
	}
	for a := 1000; a < 1060; a++ {
		want := 1
		if misfiled[a] {
			want = 0
		}
		if amounts[a] != want {
			t.Errorf("part 2 event %d emitted %d times, want %d", a, amounts[a], want)
		}
	}
	if size := testkit.TopicSize(t, brokers, out); size != 201 {
		t.Errorf("%d outputs, want 201", size)
	}
}

// TestTableStorageOpenFails: a table that cannot be opened in the state
// folder (here a file stands where its LevelDB folder goes) stops the
// pipeline for good with the path and the cause, instead of restarting it
// every RestartBackoff forever.
func TestTableStorageOpenFails(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	u := testkit.Unique("storage")
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %s
  heartbeat: 100ms
  session_timeout: 6s
pipelines:
  - name: %s
    input: {topic: %s-in, codec: json}
    dead_letter: %s-dlq
    state: {schema: ../schemas/user_stats.avsc}
    steps:
      - aggregate:
          set: {events: state.events + 1}
`, strings.Join(brokers, ","), u, u, u)
	cfg, err := pipeline.Parse("storage.yaml", []byte(testkit.SecureConfig(src)))
	if err != nil {
		t.Fatal(err)
	}
	testkit.CreateTopic(t, brokers, u+"-in", 1, nil)
	dir := t.TempDir()
	blocked := filepath.Join(dir, u, pipeline.TableTopic(u)+".0")
	if err := os.MkdirAll(filepath.Dir(blocked), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocked, []byte("not a LevelDB folder"), 0o644); err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, brokers, []*kgo.Record{{Topic: u + "-in", Key: []byte("k"), Value: []byte(`{"a":1}`)}})

	var logs testkit.LogBuffer
	rt, err := pipeline.New(cfg, pipeline.Options{StateDir: dir, RestartBackoff: 50 * time.Millisecond, Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- rt.Run(t.Context()) }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("Run did not stop on a table it cannot open; log:\n%s", logs.String())
	}
	if err == nil || !strings.Contains(err.Error(), blocked) || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Run returned %v, want an error naming %s and the cause", err, blocked)
	}
	t.Logf("Run: %v", err)
	if st := status(t, rt, u); st.Counts.Consumed != 0 {
		t.Errorf("consumed without a table: %+v", st.Counts)
	}
	if n := strings.Count(logs.String(), "pipeline stopped, restarting"); n != 0 {
		t.Errorf("restarted %d times on a permanent failure:\n%s", n, logs.String())
	}
	if errors.Is(err, pipeline.ErrFenced) {
		t.Errorf("a storage failure reads as fenced: %v", err)
	}
}
