package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/sluicehq/sluice"
)

func TestValidateWithCustomStep(t *testing.T) {
	var out, errb bytes.Buffer
	code := sluice.Run(context.Background(), []string{"validate", "-f", "pipelines.yaml"}, nil, &out, &errb, sluice.WithSteps(steps()))
	if code != 0 {
		t.Fatalf("validate exited %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "purchase-tiers") {
		t.Errorf("validate output %q does not name the pipeline", out.String())
	}
}

func TestTierTypeChecksLaterSteps(t *testing.T) {
	src := strings.Replace(mustRead(t, "pipelines.yaml"), "tier: tier", "tier: tier + 1", 1)
	path := t.TempDir() + "/p.yaml"
	mustWrite(t, path, strings.ReplaceAll(src, "../../schemas", mustAbs(t, "../../schemas")))
	var out, errb bytes.Buffer
	code := sluice.Run(context.Background(), []string{"validate", "-f", path}, nil, &out, &errb, sluice.WithSteps(steps()))
	if code != 2 || !strings.Contains(errb.String(), `tier + 1`) {
		t.Fatalf("want exit 2 naming the ill-typed expression, got %d: %s", code, errb.String())
	}
}

// The pipeline's test file passes with this binary's steps, the way
// `custom-processor test` runs it.
func TestPipelineTests(t *testing.T) {
	var out, errb bytes.Buffer
	code := sluice.Run(context.Background(), []string{"test", "-f", "pipelines.yaml"}, nil, &out, &errb, sluice.WithSteps(steps()))
	if code != 0 {
		t.Fatalf("test exited %d:\n%s%s", code, out.String(), errb.String())
	}
	if want := "ok\tpipelines_test.yaml\t2 tests\nPASS\n"; out.String() != want {
		t.Errorf("report %q, want %q", out.String(), want)
	}
}

// The step exists only in the registry given to Run: there is no global one
// for a test (or an init) to leak it into.
func TestStepsOnlyFromWithSteps(t *testing.T) {
	var out, errb bytes.Buffer
	code := sluice.Run(context.Background(), []string{"validate", "-f", "pipelines.yaml"}, nil, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), `"tier"`) {
		t.Fatalf("validate without WithSteps: exit %d, want 2 naming the unknown step tier: %s", code, errb.String())
	}
}
