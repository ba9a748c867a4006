package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/processors"
)

// retryOnceStep is the custom step type of TestMetricsMatchTheList: it fails
// transiently at the first attempt of each key, so that every message is
// retried once.
const retryOnceStep = "test-retry-once"

type retryOnce struct {
	mu   sync.Mutex
	seen map[string]bool
}

func newRetryOnce(spec *processors.Spec) (processors.Step, error) {
	if m := spec.Config.Map(); m != nil {
		m.Done()
	}
	return &retryOnce{seen: map[string]bool{}}, nil
}

func (s *retryOnce) Process(_ context.Context, m *processors.Message) (processors.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen[m.Key()] {
		s.seen[m.Key()] = true
		return processors.Drop, processors.Transient(errors.New("first attempt fails"))
	}
	return processors.Continue, nil
}

// listedMetric is one line of deploy/metrics.txt.
type listedMetric struct {
	kind   string
	labels []string
}

// readMetricsList reads deploy/metrics.txt: name, type, labels (- for none).
func readMetricsList(t *testing.T) map[string]listedMetric {
	t.Helper()
	f, err := os.Open("../../deploy/metrics.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	list := map[string]listedMetric{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 3 {
			t.Fatalf("deploy/metrics.txt: %q is not name, type, labels", line)
		}
		m := listedMetric{kind: fields[1]}
		if fields[2] != "-" {
			m.labels = strings.Split(fields[2], ",")
		}
		list[fields[0]] = m
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return list
}

var (
	sampleLine = regexp.MustCompile(`^(sluice_[a-z0-9_]+)(?:\{(.*)\})? \S+$`)
	typeLine   = regexp.MustCompile(`^# TYPE (sluice_[a-z0-9_]+) (\S+)$`)
	labelName  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"`)
)

// exportedMetrics returns the sluice_* metrics of a /metrics text and the
// labels of their samples, a histogram's _bucket, _sum and _count series
// counted as the histogram (without the bucket's le).
func exportedMetrics(text string, list map[string]listedMetric) map[string][]string {
	got := map[string][]string{}
	for line := range strings.Lines(text) {
		m := sampleLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		name := m[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && list[base].kind == "histogram" {
				name = base
			}
		}
		var labels []string
		for _, l := range labelName.FindAllStringSubmatch(m[2], -1) {
			if l[1] != "le" {
				labels = append(labels, l[1])
			}
		}
		slices.Sort(labels)
		got[name] = labels
	}
	return got
}

// TestMetricsMatchTheList: a `run` that has processed good messages,
// dead-lettered poison and a failed check, retried a message, opened a
// dead-letter breaker, recovered a table, timed its steps and answered a
// publish request exports
// exactly the metrics of deploy/metrics.txt, the documented contract, each
// with its type and labels.
func TestMetricsMatchTheList(t *testing.T) {
	for _, v := range []string{testkit.TLSVar, testkit.TLSCAFileVar, testkit.SASLMechanismVar} {
		t.Setenv(v, "")
	}
	conn := testkit.SecureBroker(t, false, kafkaconn.SASL{})
	env := map[string]string{
		envBrokers:          strings.Join(conn.Brokers, ","),
		envRegistryURL:      authRegistry(t),
		envRegistryUsername: "writer",
		envRegistryPassword: theSecret,
		envLogFormat:        "text",
	}
	file := metricsPipelines(t)
	testkit.CreateTopicWith(t, conn, "user-topic", 2)
	testkit.CreateTopicWith(t, conn, "flaky-in", 1)

	// A custom binary hands its steps to sluice.Main; this test is one.
	steps := processors.NewRegistry()
	if err := steps.Register(retryOnceStep, newRetryOnce); err != nil {
		t.Fatal(err)
	}
	produce := func(stdin string, args ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), cliTimeout)
		defer cancel()
		var stdout, stderr syncBuffer
		code := runWithEnv(ctx, append([]string{"produce", "-f", file}, args...), strings.NewReader(stdin), &stdout, &stderr, envWith(env), WithSteps(steps))
		if code != ExitOK {
			t.Fatalf("produce %v: exit %d\n%s", args, code, stderr.String())
		}
	}
	produce(`{"user_id":"u1","event_type":"purchase","amount":150,"ts":1700000000000}
{"user_id":"u2","event_type":"purchase","amount":-1,"ts":1700000001000}
`, "--topic", "user-topic", "--schema", userEventSchema, "--key-field", "user_id")
	produce("not avro\n", "--topic", "user-topic", "--codec", "string", "--key", "u3")
	produce(`{"n":1}`+"\n", "--topic", "flaky-in", "--codec", "json", "--key", "k1")
	produce("not json\nnot json either\n", "--topic", "flaky-in", "--codec", "string", "--key", "k2")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var runErr syncBuffer
	runDone := make(chan int, 1)
	go func() {
		runDone <- runWithEnv(ctx, []string{"run", "-f", file, "--http-addr", "127.0.0.1:0"},
			strings.NewReader(""), &syncBuffer{}, &runErr, func(k string) string { return env[k] }, WithSteps(steps))
	}()
	addr := testkit.EventuallyValue(t, time.Minute, "run to serve its operations endpoints", func() (string, bool) {
		m := opsAddr.FindStringSubmatch(runErr.String())
		if m == nil {
			return runErr.String(), false
		}
		return m[1], true
	})

	// The publish route of the reference pipelines exports its metrics
	// once it answered a request.
	if code, answer := postPublish(t, "http://"+addr+"/publish/user-events",
		`{"user_id":"u9","event_type":"click","amount":1,"ts":1700000002000}`, ""); code != 200 {
		t.Fatalf("POST /publish/user-events: %d %s", code, answer)
	}

	list := readMetricsList(t)
	var got map[string][]string
	testkit.EventuallyValue(t, time.Minute, "/metrics to export every listed metric", func() (string, bool) {
		got = exportedMetrics(httpGet(t, "http://"+addr+"/metrics"), list)
		var missing []string
		for name := range list {
			if _, ok := got[name]; !ok {
				missing = append(missing, name)
			}
		}
		slices.Sort(missing)
		return "missing " + strings.Join(missing, ", "), len(missing) == 0
	})
	metrics := httpGet(t, "http://"+addr+"/metrics")
	for line := range strings.Lines(metrics) {
		if m := typeLine.FindStringSubmatch(strings.TrimSpace(line)); m != nil && list[m[1]].kind != "" && list[m[1]].kind != m[2] {
			t.Errorf("%s is a %s, deploy/metrics.txt says %s", m[1], m[2], list[m[1]].kind)
		}
	}
	for name, labels := range got {
		m, ok := list[name]
		if !ok {
			t.Errorf("/metrics exports %s, which deploy/metrics.txt does not list", name)
			continue
		}
		want := slices.Sorted(slices.Values(m.labels))
		if !slices.Equal(labels, want) {
			t.Errorf("%s has labels %v, deploy/metrics.txt says %v", name, labels, want)
		}
	}
	var status []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(httpGet(t, "http://"+addr+"/pipelines")), &status); err != nil || len(status) != 4 { // the 3 reference pipelines and flaky
		t.Errorf("/pipelines: %v %+v", err, status)
	}
	cancel()
	if code := testkit.Await(t, time.Minute, "run to stop", runDone); code != ExitOK {
		t.Errorf("run exited %d:\n%s", code, runErr.String())
	}
}

// metricsPipelines writes the reference pipelines with schema paths made
// absolute, step timings on for user-stats, and a third pipeline, flaky,
// whose custom step retries every message once and whose breaker opens at
// the second dead letter.
func metricsPipelines(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(referencePipelines)
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("../../schemas")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(src), "schema: schemas/", "schema: "+abs+"/")
	text = strings.Replace(text, "    group: user-stats\n", "    group: user-stats\n    metrics: {steps: true}\n", 1)
	text += fmt.Sprintf(`
  - name: flaky
    input: {topic: flaky-in, codec: json}
    dead_letter:
      topic: flaky-dlq
      breaker: {ratio: 0.5, min_messages: 2, window: 1m}
    retry: {attempts: 3, initial_backoff: 10ms, max_backoff: 10ms}
    outputs:
      out: {topic: flaky-out, codec: json}
    steps:
      - %s: {}
      - emit: out
`, retryOnceStep)
	file := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
