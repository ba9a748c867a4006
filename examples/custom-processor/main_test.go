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
