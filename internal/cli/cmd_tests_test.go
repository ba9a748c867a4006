package cli

import (
	"strings"
	"testing"
)

// The reference pipelines pass their test file, pipelines_test.yaml, found
// next to pipelines.yaml: `go test ./...` runs `sluice test` on them.
func TestTestReference(t *testing.T) {
	r := runOffline(t, nil, "test", "-f", referencePipelines)
	if r.code != ExitOK || r.stderr != "" {
		t.Fatalf("exit %d, stdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	if want := "ok\t../../pipelines_test.yaml\t4 tests\nPASS\n"; r.stdout != want {
		t.Errorf("stdout %q, want %q", r.stdout, want)
	}
}

// A failing test exits 1 after the report of every file; a bad test file
// exits 2 naming its problems before any test runs.
func TestTestExitCodes(t *testing.T) {
	const dir = "../pipetest/testdata/"
	r := runOffline(t, nil, "test", "-f", referencePipelines, dir+"pass_test.yaml", dir+"fail_test.yaml")
	if r.code != ExitFailure || r.stderr != "sluice: 3 of 7 tests failed\n" {
		t.Errorf("failing suite: exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"ok\t" + dir + "pass_test.yaml\t3 tests\n", "--- FAIL: records missing and records too many (" + dir + "fail_test.yaml:17:5)\n", "FAIL\t" + dir + "fail_test.yaml\t3 of 4 tests failed\nFAIL\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("failing suite: stdout lacks %q:\n%s", want, r.stdout)
		}
	}

	r = runOffline(t, nil, "test", "-f", referencePipelines, dir+"pass_test.yaml", dir+"bad/unknown_pipeline_test.yaml")
	if r.code != ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, dir+`bad/unknown_pipeline_test.yaml:3:15: no pipeline named "user-statz"`) {
		t.Errorf("bad file: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}

	r = runOffline(t, nil, "test", "-f", referencePipelines, dir+"missing_test.yaml")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "missing_test.yaml") {
		t.Errorf("missing file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// A pipelines file without tests passes, saying so.
func TestTestNoFiles(t *testing.T) {
	r := runOffline(t, nil, "test", "-f", "../../examples/outbox/pipelines.yaml")
	if r.code != ExitOK || !strings.Contains(r.stdout, ": no tests (") {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
