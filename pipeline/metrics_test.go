package pipeline_test

import (
	"encoding/json"
	"fmt"
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

// sample is one sample of /metrics.
type sample struct {
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// scrape reads /metrics of rt: the samples of each metric name whose
// pipeline label, when they have one, is pipelineName.
func scrape(t *testing.T, rt *pipeline.Supervisor, pipelineName string) map[string][]sample {
	t.Helper()
	code, body := get(rt, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics answered %d: %s", code, body)
	}
	out := map[string][]sample{}
	for _, line := range strings.Split(body, "\n") {
		m := sampleLine.FindStringSubmatch(line)
		if m == nil || strings.HasPrefix(line, "#") {
			continue
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("/metrics line %q: %v", line, err)
		}
		s := sample{labels: map[string]string{}, value: v}
		for _, lp := range labelPair.FindAllStringSubmatch(m[2], -1) {
			s.labels[lp[1]] = lp[2]
		}
		if p, ok := s.labels["pipeline"]; ok && p != pipelineName {
			continue
		}
		out[m[1]] = append(out[m[1]], s)
	}
	return out
}

// value returns the value of the sample of name whose labels include want,
// and whether there is one.
func value(samples map[string][]sample, name string, want map[string]string) (float64, bool) {
	for _, s := range samples[name] {
		match := true
		for k, v := range want {
			if s.labels[k] != v {
				match = false
			}
		}
		if match {
			return s.value, true
		}
	}
	return 0, false
}

// TestMetricsHeldThenProcessed holds every partition on a dependency: each
// partition with records shows its lag in seconds above 0. Once the
// dependency is back (every message failing once more, transiently) and a
// few poison records followed, every counter matches what was fed, and the
// lag in seconds is 0.
func TestMetricsHeldThenProcessed(t *testing.T) {
	brokers, gate, u, cfg, records, keys := gatedInput(t, "obsheld")
	gate.flakes = 1 // the runtime is not started yet: no race
	cfg.Pipelines[0].Metrics.Steps = true
	rt, stop := startRuntime(t, cfg, pipeline.Options{LagInterval: 100 * time.Millisecond})
	defer stop()

	type lagSeen struct {
		Lag     []pipeline.PartitionLag
		Metrics map[int32]float64
	}
	testkit.EventuallyValue(t, time.Minute, "every held partition to show a lag in seconds above 0 (and the others 0)", func() (lagSeen, bool) {
		st := status(t, rt, u)
		m := scrape(t, rt, u)
		seen := lagSeen{Lag: st.LagPartitions, Metrics: map[int32]float64{}}
		held := 0
		ok := st.Counts.Waiting && len(st.LagPartitions) == 3
		for _, l := range st.LagPartitions {
			v, found := value(m, "sluice_consumer_lag_seconds", map[string]string{"topic": u + "-in", "partition": strconv.Itoa(int(l.Partition))})
			seen.Metrics[l.Partition] = v
			switch {
			case !found || v != l.Seconds:
				ok = false
			case l.Lag > 0:
				held++
				ok = ok && v > 0
			default:
				ok = ok && v == 0
			}
		}
		return seen, ok && held > 0
	})
	m := scrape(t, rt, "")
	if v, ok := value(m, "sluice_build_info", nil); !ok || v != 1 {
		t.Errorf("sluice_build_info = %v (present %v), want 1", v, ok)
	} else if s := m["sluice_build_info"][0]; s.labels["version"] == "" || s.labels["commit"] == "" || !strings.HasPrefix(s.labels["go_version"], "go") {
		t.Errorf("sluice_build_info labels %v", s.labels)
	}

	gate.openKeys(keys...)
	const poison = 3
	var bad []*kgo.Record
	for i := range poison {
		bad = append(bad, &kgo.Record{Topic: u + "-in", Key: []byte(keys[i]), Value: []byte("not json")})
	}
	testkit.Produce(t, brokers, bad)
	total := len(records) + poison
	waitConsumed(t, rt, u, int64(total), time.Minute)
	testkit.WaitLagZero(t, brokers, u, u+"-in", time.Minute)

	want := map[string]float64{
		`sluice_messages_consumed_total`:                         float64(total),
		`sluice_records_emitted_total{topic="` + u + `-out"}`:    float64(len(records)),
		`sluice_dlq_records_total{stage="decode",kind="poison"}`: poison,
		`sluice_messages_dead_letter_total`:                      poison,
		`sluice_stage_retries_total{stage="gate"}`:               float64(len(records)),
		`sluice_retries_total`:                                   float64(len(records)),
		`sluice_message_duration_seconds_count`:                  float64(total),
		`sluice_step_duration_seconds_count{step="1:emit"}`:      float64(len(records)),
		`sluice_step_duration_seconds_count{step="0:gate"}`:      float64(gate.calls()),
		`sluice_consumer_lag_seconds{partition="0"}`:             0,
		`sluice_consumer_lag_seconds{partition="1"}`:             0,
		`sluice_consumer_lag_seconds{partition="2"}`:             0,
	}
	if deadletter.StageDecode != "decode" || deadletter.KindPoison != "poison" {
		t.Fatalf("dead-letter stage %q and kind %q: the test expects decode and poison", deadletter.StageDecode, deadletter.KindPoison)
	}
	testkit.EventuallyValue(t, 30*time.Second, "the metrics to match what was fed", func() (map[string]string, bool) {
		m := scrape(t, rt, u)
		wrong := map[string]string{}
		for key, w := range want {
			name, labels := parseKey(key)
			got, ok := value(m, name, labels)
			if !ok || got != w {
				wrong[key] = fmt.Sprintf("got %v (present %v), want %v", got, ok, w)
			}
		}
		return wrong, len(wrong) == 0
	})
}

// parseKey splits `name{a="x",b="y"}` into the name and its labels.
func parseKey(key string) (string, map[string]string) {
	name, rest, _ := strings.Cut(key, "{")
	labels := map[string]string{}
	for _, lp := range labelPair.FindAllStringSubmatch(rest, -1) {
		labels[lp[1]] = lp[2]
	}
	return name, labels
}

// TestRecoveryProgress seeds a stateful pipeline's changelog with 200,000
// table entries (in the pipeline's own table format) before it starts: while
// it recovers, its status, /readyz and /metrics show the recovery moving and
// the log reports it; at its end /readyz answers 200 and every partition is
// recovered up to its high-water mark. It runs with the tables in memory
// (the default) and in LevelDB (--state-dir).
func TestRecoveryProgress(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testRecoveryProgress(t, "") })
	t.Run("leveldb", func(t *testing.T) { testRecoveryProgress(t, t.TempDir()) })
}

func testRecoveryProgress(t *testing.T, stateDir string) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	u := testkit.Unique("obsrecover")
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
    state: {schema: ../schemas/user_stats.avsc}
    steps:
      - filter: 'true'
`, strings.Join(brokers, ","), u, u, u)
	cfg, err := pipeline.Parse("recover.yaml", []byte(testkit.SecureConfig(src)))
	if err != nil {
		t.Fatal(err)
	}
	table := u + "-table"
	testkit.CreateTopic(t, brokers, u+"-in", 3, nil)
	testkit.CreateTopic(t, brokers, table, 3, map[string]string{"cleanup.policy": "compact"})
	const entries = 200_000
	codec := pipeline.TableCodec(t, cfg.Pipelines[0].State.Schema)
	records := make([]*kgo.Record, 0, entries)
	for i := range entries {
		key := "user-" + strconv.Itoa(i)
		v, err := codec.Encode(&pipeline.TableEntry{State: map[string]any{
			"user_id": key, "events": int64(i), "purchases": int64(0), "total_spent": 0.0,
			"last_event_type": "click", "last_country": nil, "last_ts": time.UnixMilli(1_790_000_000_000),
		}})
		if err != nil {
			t.Fatal(err)
		}
		records = append(records, &kgo.Record{Topic: table, Key: []byte(key), Value: v})
	}
	testkit.Produce(t, brokers, records)

	var logs testkit.LogBuffer
	rt, stop := startRuntime(t, cfg, pipeline.Options{Logger: logs.Logger(), RecoveryLogInterval: 100 * time.Millisecond, StateDir: stateDir})
	defer stop()

	type observed struct {
		Progress    []float64 // distinct recovery progress values below 1 in /pipelines, in order
		NotReady503 bool      // /readyz answered 503 with a progress below 1
		// MetricsRecovering: /metrics showed a partition recovering, its
		// offset below its high-water mark.
		MetricsRecovering bool
		Code              int
	}
	var obs observed
	testkit.EventuallyValue(t, time.Minute, "/readyz to answer 200 after the recovery", func() (observed, bool) {
		// A burst of /pipelines reads between two polls: a recovery in
		// memory may take no more than a few polls.
		for range 20 {
			code, body := get(rt, "/pipelines")
			var sts []pipeline.Status
			if err := json.Unmarshal([]byte(body), &sts); err != nil || code != 200 || len(sts) != 1 {
				t.Fatalf("/pipelines: %d %q: %v", code, body, err)
			}
			p := sts[0].RecoveryProgress
			if n := len(obs.Progress); p > 0 && p < 1 && (n == 0 || obs.Progress[n-1] != p) {
				obs.Progress = append(obs.Progress, p)
			}
		}
		code, body := get(rt, "/readyz")
		obs.Code = code
		var rz struct {
			Ready     bool              `json:"ready"`
			Pipelines []pipeline.Status `json:"pipelines"`
		}
		if err := json.Unmarshal([]byte(body), &rz); err != nil || len(rz.Pipelines) != 1 {
			t.Fatalf("/readyz body %q: %v", body, err)
		}
		st := rz.Pipelines[0]
		if code == 503 && len(st.Recovery) > 0 && st.RecoveryProgress < 1 {
			obs.NotReady503 = true
			m := scrape(t, rt, u)
			for _, r := range m["sluice_table_recovering"] {
				labels := map[string]string{"table": table, "partition": r.labels["partition"]}
				off, _ := value(m, "sluice_table_recovery_offset", labels)
				hwm, _ := value(m, "sluice_table_recovery_high_watermark", labels)
				if r.labels["table"] == table && r.value == 1 && off < hwm {
					obs.MetricsRecovering = true
				}
			}
		}
		return obs, code == 200 && rz.Ready
	})
	t.Logf("recovery progress seen in /pipelines: %v", obs.Progress)
	if !obs.NotReady503 || len(obs.Progress) < 2 || !obs.MetricsRecovering {
		t.Errorf("did not see the recovery move in /pipelines, /readyz and /metrics: %+v", obs)
	}
	for i := 1; i < len(obs.Progress); i++ {
		if obs.Progress[i] < obs.Progress[i-1] {
			t.Errorf("recovery progress went back: %v", obs.Progress)
		}
	}

	st := status(t, rt, u)
	m := scrape(t, rt, u)
	var hwm float64
	for p := range 3 {
		labels := map[string]string{"table": table, "partition": strconv.Itoa(p)}
		off, ok1 := value(m, "sluice_table_recovery_offset", labels)
		h, ok2 := value(m, "sluice_table_recovery_high_watermark", labels)
		rec, ok3 := value(m, "sluice_table_recovering", labels)
		if !ok1 || !ok2 || !ok3 || off != h || rec != 0 {
			t.Errorf("partition %d after recovery: offset %v, high-water mark %v, recovering %v (present %v %v %v)", p, off, h, rec, ok1, ok2, ok3)
		}
		hwm += h
	}
	if hwm != entries || st.RecoveryProgress != 1 || len(st.Recovery) != 3 {
		t.Errorf("after recovery: high-water marks sum to %v (want %d), status recovery %+v progress %v", hwm, entries, st.Recovery, st.RecoveryProgress)
	}
	log := logs.String()
	for _, want := range []string{`msg="pipeline starting"`, `msg="recovering tables"`, "records_per_second=", "eta=", `msg="pipeline ready"`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
}

// TestRegistryMetrics feeds an Avro pipeline 20 events of one writer schema
// and 4 poison frames (2 with a bad magic byte, 2 naming a schema id the
// registry does not know): the codec asks the registry once for each id,
// every frame with a schema id is one cache lookup, and the outputs and dead
// letters are counted.
func TestRegistryMetrics(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	reg := newRegistryProxy(t, proxyPass)
	u := testkit.Unique("obsregistry")
	in := u + "-in"
	cfg := avroPipelineConfig(t, brokers, reg.url, u, "off")
	testkit.CreateTopic(t, brokers, in, 3, nil)
	_, v2 := userEventCodecs(t, reg.direct, in)
	const n, poison = 20, 4
	testkit.Produce(t, brokers, append(userEvents(t, in, v2, 0, n), poisonFrames(in, poison)...))

	rt, stop := startRuntime(t, cfg, pipeline.Options{})
	defer stop()
	c := waitConsumed(t, rt, u, n+poison, time.Minute)
	if c.Processed != n || c.DeadLettered != poison {
		t.Fatalf("counts %+v, want %d processed and %d dead-lettered", c, n, poison)
	}
	type seen struct {
		OK, NotFound, Errors, Hits, Misses, Emitted, DeadLetters float64
	}
	testkit.EventuallyValue(t, 30*time.Second, "the registry, cache, output and dead-letter metrics to match what was fed", func() (seen, bool) {
		m := scrape(t, rt, u)
		var s seen
		s.OK, _ = value(m, "sluice_registry_requests_total", map[string]string{"result": "ok"})
		s.NotFound, _ = value(m, "sluice_registry_requests_total", map[string]string{"result": "not_found"})
		s.Errors, _ = value(m, "sluice_registry_requests_total", map[string]string{"result": "error"})
		s.Hits, _ = value(m, "sluice_schema_cache_hits_total", nil)
		s.Misses, _ = value(m, "sluice_schema_cache_misses_total", nil)
		s.Emitted, _ = value(m, "sluice_records_emitted_total", map[string]string{"topic": u + "-out"})
		s.DeadLetters, _ = value(m, "sluice_dlq_records_total", map[string]string{"stage": "decode", "kind": "poison"})
		// One fetch per id (the known one, the unknown one); a lookup per
		// frame that names an id, and a miss at least for each id.
		return s, s.OK == 1 && s.NotFound == 1 && s.Errors == 0 && s.Hits+s.Misses == n+poison/2 && s.Misses >= 2 &&
			s.Emitted == n && s.DeadLetters == poison
	})
}
