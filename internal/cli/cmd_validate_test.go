package cli

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

const referencePipelines = "../../pipelines.yaml"

// offlineResult is what a command that never connects printed and returned.
type offlineResult struct {
	code           int
	stdout, stderr string
}

// runOffline runs the CLI with env as the whole environment.
func runOffline(t *testing.T, env map[string]string, args ...string) offlineResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := runWithEnv(context.Background(), args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return env[k] })
	return offlineResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestValidateReference(t *testing.T) {
	r := runOffline(t, nil, "validate", "-f", referencePipelines)
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if want := "../../pipelines.yaml: valid (3 pipelines: user-stats, big-purchases, user-purchases-5m)\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

// A broken file exits 2 and prints every problem as file:line:col, the same
// lines the pipeline package's golden file holds.
func TestValidateBroken(t *testing.T) {
	const dir = "../../pipeline/testdata/broken/"
	want, err := os.ReadFile(dir + "several_errors.want")
	if err != nil {
		t.Fatal(err)
	}
	r := runOffline(t, nil, "validate", "-f", dir+"several_errors.yaml")
	if r.code != ExitUsage {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitUsage, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(string(want)), "\n")
	if len(lines) < 5 {
		t.Fatalf("the golden file has %d lines", len(lines))
	}
	for _, line := range lines {
		line = strings.Replace(line, "testdata/broken/", dir, 1)
		if !strings.Contains(r.stderr, line+"\n") {
			t.Errorf("stderr lacks %q:\n%s", line, r.stderr)
		}
	}
	if !strings.HasPrefix(r.stderr, "sluice: "+dir+"several_errors.yaml:4:15: partitions must be at least 1\n") {
		t.Errorf("stderr does not start with the first problem:\n%s", r.stderr)
	}
}

// validate reads ${VAR} through the CLI's environment.
func TestValidateEnvironment(t *testing.T) {
	const file = "../../pipeline/testdata/broken/unset_variable.yaml"
	r := runOffline(t, map[string]string{"SLUICE_TOPIC": "user-topic"}, "validate", "-f", file)
	if r.code != ExitUsage || !strings.Contains(r.stderr, file+":4:12: environment variable SLUICE_BROKERS is not set") {
		t.Errorf("unset: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	r = runOffline(t, map[string]string{"SLUICE_TOPIC": "user-topic", "SLUICE_BROKERS": "127.0.0.1:9092"}, "validate", "-f", file)
	if r.code != ExitOK || !strings.Contains(r.stdout, "valid (1 pipelines: big-purchases)") {
		t.Errorf("set: exit %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestValidateUsage(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown flag", []string{"validate", "--strict", "-f", referencePipelines}, "unknown flag: --strict"},
		{"argument", []string{"validate", referencePipelines}, "unknown command"},
		{"missing file", []string{"validate", "-f", "no-such-pipelines.yaml"}, "no-such-pipelines.yaml: no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runOffline(t, nil, c.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, want %d with %q in stderr:\n%s", r.code, ExitUsage, c.want, r.stderr)
			}
		})
	}
}
