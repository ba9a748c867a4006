package pipeline_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/deadletter"
	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry/regclient"
)

// refNames are the reference pipeline's topics and groups, renamed per test
// so that runs on a shared real broker never meet.
type refNames struct {
	input, stats, big, dlq, statsGroup, bigGroup string
	// purchases is the window pipeline's name, group and output topic.
	purchases, purchasesDLQ string
}

// referenceConfig loads ../pipelines.yaml with every topic and group renamed,
// for env's broker and registry (see referenceConfigAt).
func referenceConfig(t *testing.T, env *devenv.Env) (*pipeline.Config, refNames) {
	t.Helper()
	return referenceConfigAt(t, env.Brokers(), env.RegistryURL())
}

// userEventCodecs returns encoders for the v1 and v2 UserEvent writer schemas
// under the input's subject (v1 registered first, as an old producer would).
func userEventCodecs(t *testing.T, registryURL, topic string) (v1, v2 demo.Encoder) {
	t.Helper()
	client := registryClient(t, registryURL)
	schemas := codecs.NewSchemas()
	mk := func(path string) demo.Encoder {
		s, err := schemas.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		c, err := codecs.NewAvro(client, schemas, s, codecs.WithSubject(topic, codecs.TopicNameStrategy))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Register(context.Background()); err != nil {
			t.Fatalf("registering %s: %v", path, err)
		}
		return c.Encode
	}
	v1 = mk("../testdata/schemas/user_event_v1.avsc")
	v2 = mk("../schemas/user_event.avsc")
	return v1, v2
}

func startRuntime(t *testing.T, cfg *pipeline.Config, opts pipeline.Options) (*pipeline.Supervisor, func()) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	rt, err := pipeline.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rt.Run(ctx) }()
	stop := func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("runtime: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Errorf("runtime did not stop within 60s")
		}
	}
	return rt, stop
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func waitConsumed(t *testing.T, rt *pipeline.Supervisor, name string, n int64, timeout time.Duration) pipeline.Counts {
	t.Helper()
	return testkit.EventuallyValue(t, timeout, name+" to consume "+strconv.FormatInt(n, 10)+" messages", func() (pipeline.Counts, bool) {
		c, _ := rt.Counts(name)
		return c, c.Consumed >= n
	})
}

// TestReferencePipelines runs both reference pipelines over 10,000 events
// mixing v1 and v2 writers, heartbeats, negative amounts and poison frames of
// every shape, and compares everything they wrote with an independent
// computation.
func TestReferencePipelines(t *testing.T) {
	env := testkit.Env(t)
	cfg, names := referenceConfig(t, env)
	testkit.CreateTopic(t, env.Brokers(), names.input, 6, nil)
	v1, v2 := userEventCodecs(t, env.RegistryURL(), names.input)

	const n = 10000
	events := demo.GenerateEvents(testkit.Seed(t), n, 200, 0.03)
	records, err := demo.Records(names.input, events, v1, v2, 999999)
	if err != nil {
		t.Fatal(err)
	}
	testkit.Produce(t, env.Brokers(), records)

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()

	c := testkit.CountEvents(events)
	poison, negative, heartbeat, big := c.Poison, c.Negative, c.Heartbeat, c.Big
	expStats := testkit.ExpectUserStats(events)

	us := waitConsumed(t, rt, names.stats, n, 2*time.Minute)
	bp := waitConsumed(t, rt, names.big, n, 2*time.Minute)
	t.Logf("user-stats %+v; big-purchases %+v; poison %d negative %d heartbeat %d big %d users %d", us, bp, poison, negative, heartbeat, big, len(expStats))
	if us.Consumed != us.Processed+us.Filtered+us.DeadLettered || bp.Consumed != bp.Processed+bp.Filtered+bp.DeadLettered {
		t.Errorf("counts do not add up: user-stats %+v, big-purchases %+v", us, bp)
	}
	if us.DeadLettered != int64(poison+negative) || us.Filtered != int64(heartbeat) {
		t.Errorf("user-stats counts %+v, want dead-lettered %d, filtered %d", us, poison+negative, heartbeat)
	}
	if bp.DeadLettered != int64(poison) || bp.Processed != int64(big) {
		t.Errorf("big-purchases counts %+v, want dead-lettered %d, processed %d", bp, poison, big)
	}

	// The last user-stats output per user equals the expected state.
	statsRecs := testkit.ReadAll(t, env.Brokers(), names.stats, int(us.Processed), time.Minute)
	compareStats(t, "last output", expStats, lastOutputs(t, env.RegistryURL(), statsRecs))

	// The table holds the same.
	compareStats(t, "table", expStats, tableStates(t, rt, names.stats, expStats))

	// big-purchases: JSON, per user in order.
	bigRecs := testkit.ReadAll(t, env.Brokers(), names.big, big, time.Minute)
	gotBig := map[string][]testkit.BigPurchase{}
	for _, r := range bigRecs {
		var b testkit.BigPurchase
		if err := json.Unmarshal(r.Value, &b); err != nil {
			t.Fatalf("big-purchases output %q: %v", r.Value, err)
		}
		gotBig[string(r.Key)] = append(gotBig[string(r.Key)], b)
	}
	wantBig := testkit.ExpectBigPurchases(events)
	if len(gotBig) != len(wantBig) {
		t.Errorf("big-purchases for %d users, want %d", len(gotBig), len(wantBig))
	}
	for k, want := range wantBig {
		got := gotBig[k]
		if len(got) != len(want) {
			t.Errorf("big-purchases of %s: %d outputs, want %d", k, len(got), len(want))
			continue
		}
		for i := range want {
			if got[i].UserID != want[i].UserID || got[i].Amount != want[i].Amount || !sameCountry(got[i].Country, want[i].Country) {
				t.Errorf("big-purchases of %s #%d: got %+v, want %+v", k, i, got[i], want[i])
			}
		}
	}

	// Dead letters: the poison twice (one per pipeline), the negatives once.
	dlq := testkit.ReadAll(t, env.Brokers(), names.dlq, 2*poison+negative, time.Minute)
	checkDeadLetters(t, dlq, records, names, poison, negative)
}

func checkDeadLetters(t *testing.T, dlq, sent []*kgo.Record, names refNames, poison, negative int) {
	t.Helper()
	byPos := map[string]*kgo.Record{}
	// Sent records carry their partition and offset after ProduceSync.
	for _, r := range sent {
		byPos[strconv.Itoa(int(r.Partition))+"/"+strconv.FormatInt(r.Offset, 10)] = r
	}
	stages := map[string]int{}
	for _, d := range dlq {
		h := func(k string) string {
			v, ok := testkit.Header(d, k)
			if !ok {
				t.Errorf("dead letter at %d/%d lacks header %s", d.Partition, d.Offset, k)
			}
			return v
		}
		pipe, stage, kind := h(deadletter.HeaderPipeline), h(deadletter.HeaderStage), h(deadletter.HeaderKind)
		h(deadletter.HeaderMessage)
		h(deadletter.HeaderSourceTimestamp)
		if h(deadletter.HeaderAttempts) != "1" {
			t.Errorf("poison dead letter tried more than once")
		}
		if kind != deadletter.KindPoison {
			t.Errorf("dead letter kind %q, want poison", kind)
		}
		if h(deadletter.HeaderSourceTopic) != names.input {
			t.Errorf("dead letter source topic %q", h(deadletter.HeaderSourceTopic))
		}
		stages[pipe+"/"+stage]++
		orig := byPos[h(deadletter.HeaderSourcePartition)+"/"+h(deadletter.HeaderSourceOffset)]
		if orig == nil {
			t.Errorf("dead letter points at no sent record")
			continue
		}
		if string(orig.Key) != string(d.Key) || string(orig.Value) != string(d.Value) {
			t.Errorf("dead letter bytes differ from the original: key %q/%q value %x/%x", orig.Key, d.Key, orig.Value, d.Value)
		}
		if orig.Value == nil && d.Value != nil {
			t.Errorf("a null value was dead-lettered as %x", d.Value)
		}
		if id, ok := codecs.FrameSchemaID(orig.Value); ok {
			if got, _ := testkit.Header(d, deadletter.HeaderSchemaID); got != strconv.Itoa(id) {
				t.Errorf("schema id header %q, want %d", got, id)
			}
		}
	}
	want := map[string]int{
		names.stats + "/decode":   poison,
		names.stats + "/validate": negative,
		names.big + "/decode":     poison,
	}
	for k, v := range want {
		if stages[k] != v {
			t.Errorf("dead letters %s: %d, want %d (all: %v)", k, stages[k], v, stages)
		}
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

func avroReader(t *testing.T, url, path string) *codecs.Avro {
	t.Helper()
	schemas := codecs.NewSchemas()
	s, err := schemas.ParseFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := codecs.NewAvro(registryClient(t, url), schemas, s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// lastOutputs decodes user-stats records and keeps the last value per key.
func lastOutputs(t *testing.T, registryURL string, records []*kgo.Record) map[string]map[string]any {
	t.Helper()
	dec := avroReader(t, registryURL, "../schemas/user_stats.avsc")
	last := map[string]map[string]any{}
	for _, r := range records {
		v, err := dec.Decode(r.Value)
		if err != nil {
			t.Fatalf("decoding user-stats output: %v", err)
		}
		last[string(r.Key)] = codecs.ToJSON(v).(map[string]any)
	}
	return last
}

// tableStates reads the table state of every key of want from rt.
func tableStates(t *testing.T, rt *pipeline.Supervisor, name string, want map[string]testkit.UserStats) map[string]map[string]any {
	t.Helper()
	got := make(map[string]map[string]any, len(want))
	for key := range want {
		s, err := rt.State(name, key)
		if err != nil {
			t.Fatalf("state of %s: %v", key, err)
		}
		got[key] = s
	}
	return got
}

func compareStats(t *testing.T, what string, want map[string]testkit.UserStats, got map[string]map[string]any) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d users, want %d", what, len(got), len(want))
	}
	for k, w := range want {
		g := got[k]
		if g == nil {
			t.Errorf("%s: no state for %s", what, k)
			continue
		}
		b, _ := json.Marshal(g)
		var gs testkit.UserStats
		if err := json.Unmarshal(b, &gs); err != nil {
			t.Fatalf("%s: %s: %v", what, b, err)
		}
		if gs.UserID != w.UserID || gs.Events != w.Events || gs.Purchases != w.Purchases || gs.TotalSpent != w.TotalSpent ||
			gs.LastEventType != w.LastEventType || !sameCountry(gs.LastCountry, w.LastCountry) || gs.LastTS != w.LastTS {
			t.Errorf("%s of %s:\n got %s\nwant %+v", what, k, b, w)
		}
	}
}

func sameCountry(a, b *string) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
