//go:build interop

package e2e

// The interop test needs Confluent's Python client, installed into a
// virtualenv by scripts/python-venv.sh (network to PyPI on first use), so it
// runs when asked: go test -tags interop ./internal/e2e -run Interop
// (.ci/run does, against the real broker).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
)

// venvPython creates (or reuses) the interop virtualenv and returns its python.
func venvPython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("../../scripts/python-venv.sh").Output()
	if err != nil {
		t.Fatalf("scripts/python-venv.sh: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

func runPython(t *testing.T, py string, args ...string) string {
	t.Helper()
	cmd := exec.Command(py, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(py), strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestInteropConfluentClient: Confluent's Python AvroSerializer writes
// UserEvents (v1 and v2, registered by the Python client in sluice's
// registry), `sluice run` processes them, and Confluent's AvroDeserializer
// reads user-stats back with the exact expected values. Then the reverse:
// `sluice produce` writes records that Confluent's deserializer reads.
func TestInteropConfluentClient(t *testing.T) {
	py := venvPython(t)
	svc := startServices(t)
	suffix := testkit.Unique("")
	input, stats := "user-topic"+suffix, "user-stats"+suffix
	bootstrap := strings.Join(svc.brokers, ",")
	expect := filepath.Join(t.TempDir(), "expect.json")

	began := time.Now()
	runPython(t, py, "../../interop/produce_user_events.py", "--bootstrap", bootstrap, "--registry", svc.registry,
		"--topic", input, "--count", "5000", "--seed", strconv.FormatUint(testkit.Seed(t), 10), "--partitions", "6", "--poison", "20", "--expect", expect)
	run := start(t, "run", svc.env(), "run", "-f", pipelinesFile(t, suffix, ""), "--log-level", "info")
	out := runPython(t, py, "../../interop/consume_user_stats.py", "--bootstrap", bootstrap, "--registry", svc.registry,
		"--topic", stats, "--expect", expect, "--timeout", "120")
	t.Logf("python -> sluice -> python: exact after %s\n%s", time.Since(began).Round(time.Millisecond), strings.TrimSpace(out))
	if err := run.stop(t, time.Minute); err != nil {
		t.Errorf("sluice run: %v\n%s", err, run.tail(20))
	}

	// sluice produce -> Confluent's AvroDeserializer.
	topic := "interop-produce" + suffix
	testkit.CreateTopic(t, svc.brokers, topic, 3, nil)
	lines := []string{
		`{"user_id":"u1","event_type":"purchase","amount":120.5,"ts":1764115200000,"country":"KR"}`,
		`{"user_id":"u2","event_type":"login","amount":0,"ts":1764115201000}`,
		`{"user_id":"u1","event_type":"logout","amount":0,"ts":1764115202000,"country":null}`,
	}
	produce := exec.Command(binary, "produce", "--topic", topic, "--schema", "../../schemas/user_event.avsc", "--key-field", "user_id")
	produce.Env = append(os.Environ(), svc.env()...)
	produce.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if out, err := produce.CombinedOutput(); err != nil {
		t.Fatalf("sluice produce: %v\n%s", err, out)
	}
	read := runPython(t, py, "../../interop/read_avro.py", "--bootstrap", bootstrap, "--registry", svc.registry,
		"--topic", topic, "--count", fmt.Sprint(len(lines)), "--timeout", "60")
	got := map[string][]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(read))
	for sc.Scan() {
		var rec struct {
			Key   string         `json:"key"`
			Value map[string]any `json:"value"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			continue // a log line
		}
		if rec.Value != nil {
			got[rec.Key] = append(got[rec.Key], rec.Value)
		}
	}
	if len(got["u1"]) != 2 || len(got["u2"]) != 1 {
		t.Fatalf("Confluent's deserializer read %v", got)
	}
	if v := got["u1"][0]; v["event_type"] != "purchase" || v["amount"] != 120.5 || v["country"] != "KR" {
		t.Errorf("first u1 record read by Confluent: %v", v)
	}
	if v := got["u2"][0]; v["country"] != nil || v["event_type"] != "login" {
		t.Errorf("u2 record read by Confluent: %v", v)
	}
}
