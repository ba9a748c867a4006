//go:build interop

package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
)

// examplePipelines writes the pipelines.yaml of examples/<name> with every
// topic in topics renamed with suffix and its schemas at absolute paths.
func examplePipelines(t *testing.T, name, suffix string, topics []string, schemas []string) string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("../../examples", name, "pipelines.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, topic := range topics {
		text = strings.ReplaceAll(text, "topic: "+topic+"\n", "topic: "+topic+suffix+"\n")
		text = strings.ReplaceAll(text, "dead_letter: "+topic+"\n", "dead_letter: "+topic+suffix+"\n")
	}
	text = strings.ReplaceAll(text, "name: paid-", "name: paid"+suffix+"-")
	for _, s := range schemas {
		abs, err := filepath.Abs(filepath.Join("../../examples", name, s))
		if err != nil {
			t.Fatal(err)
		}
		text = strings.ReplaceAll(text, "schema: "+s+"\n", "schema: "+abs+"\n")
	}
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(testkit.SecureConfig(text)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pythonRecords parses the JSON lines schema_formats.py read-* prints, by key.
func pythonRecords(t *testing.T, out string) map[string]map[string]any {
	t.Helper()
	got := map[string]map[string]any{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var rec struct {
			Key   string         `json:"key"`
			Value map[string]any `json:"value"`
			Error string         `json:"error"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			continue // a log line
		}
		if rec.Error != "" {
			t.Errorf("Confluent's deserializer failed on %s: %s", rec.Key, rec.Error)
		}
		got[rec.Key] = rec.Value
	}
	return got
}

// TestInteropSchemaFormats: Confluent's Python JSONSerializer and
// ProtobufSerializer (PyPI, classes generated with grpcio-tools) write
// signups and order events, registering their schemas in sluice's registry;
// `sluice run` runs the examples' JSON Schema and Protobuf pipelines over
// them; Confluent's JSONDeserializer and ProtobufDeserializer read what
// sluice emitted, with the expected values.
func TestInteropSchemaFormats(t *testing.T) {
	py := venvPython(t)
	svc := startServices(t)
	bootstrap := strings.Join(svc.brokers, ",")
	const count = 60
	script := "../../interop/schema_formats.py"

	t.Run("json_schema", func(t *testing.T) {
		suffix := testkit.Unique("")
		testkit.CreateTopic(t, svc.brokers, "signups"+suffix, 3, nil)
		runPython(t, py, script, "produce-json", "--bootstrap", bootstrap, "--registry", svc.registry,
			"--topic", "signups"+suffix, "--schema", "../../examples/json-schema/signup.schema.json", "--count", fmt.Sprint(count))
		cfg := examplePipelines(t, "json-schema", suffix, []string{"signups", "signups-dlq", "paid-signups"},
			[]string{"signup.schema.json", "paid-signup.schema.json"})
		run := start(t, "run-json", svc.env(), "run", "-f", cfg, "--log-level", "info")

		// Every signup but the free ones, seats defaulting to 1.
		paid := 0
		for i := 0; i < count; i++ {
			if i%3 != 0 {
				paid++
			}
		}
		out := runPython(t, py, script, "read-json", "--bootstrap", bootstrap, "--registry", svc.registry,
			"--topic", "paid-signups"+suffix, "--schema", "../../examples/json-schema/paid-signup.schema.json",
			"--count", fmt.Sprint(paid), "--timeout", "120")
		got := pythonRecords(t, out)
		plans := []string{"free", "pro", "team"}
		for i := 0; i < count; i++ {
			if i%3 == 0 {
				continue
			}
			key := fmt.Sprintf("user-%d", i)
			seats := float64(1)
			if i%4 != 0 {
				seats = float64(i%5 + 1)
			}
			want := map[string]any{"user_id": key, "plan": plans[i%3], "seats": seats}
			if fmt.Sprint(got[key]) != fmt.Sprint(want) {
				t.Errorf("paid signup %s read by Confluent: %v, want %v", key, got[key], want)
			}
		}
		if err := run.stop(t, time.Minute); err != nil {
			t.Errorf("sluice run: %v\n%s", err, run.tail(20))
		}
	})

	t.Run("protobuf", func(t *testing.T) {
		suffix := testkit.Unique("")
		testkit.CreateTopic(t, svc.brokers, "order-events"+suffix, 3, nil)
		runPython(t, py, script, "produce-protobuf", "--bootstrap", bootstrap, "--registry", svc.registry,
			"--topic", "order-events"+suffix, "--proto", "../../examples/protobuf/orders.proto", "--message", "OrderEvent", "--count", fmt.Sprint(count))
		cfg := examplePipelines(t, "protobuf", suffix, []string{"order-events", "order-events-dlq", "paid-orders"},
			[]string{"orders.proto"})
		run := start(t, "run-proto", svc.env(), "run", "-f", cfg, "--log-level", "info")

		// The even (paid) orders, as PaidOrder.
		out := runPython(t, py, script, "read-protobuf", "--bootstrap", bootstrap, "--registry", svc.registry,
			"--topic", "paid-orders"+suffix, "--proto", "../../examples/protobuf/orders.proto", "--message", "PaidOrder",
			"--count", fmt.Sprint(count/2), "--timeout", "120")
		got := pythonRecords(t, out)
		for i := 0; i < count; i += 2 {
			key := fmt.Sprintf("order-%d", i)
			want := map[string]any{"order_id": key, "customer_id": fmt.Sprintf("customer-%d", i%7), "total": float64(i) * 1.25,
				"currency": "EUR", "lines": float64(i%3 + 1)}
			if fmt.Sprint(got[key]) != fmt.Sprint(want) {
				t.Errorf("paid order %s read by Confluent: %v, want %v", key, got[key], want)
			}
		}
		if err := run.stop(t, time.Minute); err != nil {
			t.Errorf("sluice run: %v\n%s", err, run.tail(20))
		}
	})
}
