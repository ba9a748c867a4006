package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/pipeline"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

func runSchemasCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runWithEnv(context.Background(), args, strings.NewReader(""), &out, &errb, func(string) string { return "" })
	return code, out.String(), errb.String()
}

// evolvedSchemas copies pipelines.yaml and schemas/ to a temp dir, adding a
// field to user_event.avsc (without a default when breaking is true).
func evolvedSchemas(t *testing.T, field map[string]any) string {
	t.Helper()
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "schemas"), 0o755))
	for _, f := range []string{"pipelines.yaml", "schemas/user_stats.avsc", "schemas/user_purchases_5m.avsc"} {
		b, err := os.ReadFile(filepath.Join("../..", f))
		must(err)
		must(os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	b, err := os.ReadFile("../../schemas/user_event.avsc")
	must(err)
	var s map[string]any
	must(json.Unmarshal(b, &s))
	s["fields"] = append(s["fields"].([]any), field)
	b, err = json.MarshalIndent(s, "", "  ")
	must(err)
	must(os.WriteFile(filepath.Join(dir, "schemas/user_event.avsc"), b, 0o644))
	return dir
}

// TestSchemasPushCheckAndValidate: push registers each file under the subject
// pipelines.yaml gives it; check passes for compatible changes and exits 1
// naming the subject and the field for a BACKWARD-incompatible one;
// validate --registry needs the input subject to exist.
func TestSchemasPushCheckAndValidate(t *testing.T) {
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer srv.Close()
	url := srv.URL

	code, _, errOut := runSchemasCLI(t, "validate", "-f", "../../pipelines.yaml", "--registry", url)
	if code != ExitUsage || !strings.Contains(errOut, "user-topic-value does not exist") {
		t.Fatalf("validate before push: exit %d, %s", code, errOut)
	}

	code, out, errOut := runSchemasCLI(t, "schemas", "push", "--dir", "../../schemas", "-f", "../../pipelines.yaml", "--registry", url)
	if code != 0 || !strings.Contains(out, "user-topic-value") || !strings.Contains(out, "user-stats-value") {
		t.Fatalf("push: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut = runSchemasCLI(t, "validate", "-f", "../../pipelines.yaml", "--registry", url); code != 0 {
		t.Fatalf("validate after push: exit %d %s%s", code, out, errOut)
	}

	compatible := evolvedSchemas(t, map[string]any{"name": "channel", "type": []any{"null", "string"}, "default": nil})
	if code, out, errOut = runSchemasCLI(t, "schemas", "check", "--dir", filepath.Join(compatible, "schemas"), "-f", filepath.Join(compatible, "pipelines.yaml"), "--registry", url); code != 0 {
		t.Errorf("check of a compatible change: exit %d\n%s%s", code, out, errOut)
	}

	breaking := evolvedSchemas(t, map[string]any{"name": "channel", "type": "string"})
	code, out, errOut = runSchemasCLI(t, "schemas", "check", "--dir", filepath.Join(breaking, "schemas"), "-f", filepath.Join(breaking, "pipelines.yaml"), "--registry", url)
	if code != ExitFailure {
		t.Errorf("check of a breaking change: exit %d, want 1", code)
	}
	if !strings.Contains(out, "user-topic-value") || !strings.Contains(out, "INCOMPATIBLE") || !strings.Contains(out, "channel") {
		t.Errorf("check output does not name the subject and field:\n%s%s", out, errOut)
	}
	// The state schema of user-stats, registered as its pipeline does at
	// start, is checked too: a new state field needs a default.
	stateSchema, err := codecs.NewSchemas().ParseFile("../../schemas/user_stats.avsc")
	if err != nil {
		t.Fatal(err)
	}
	entry, err := pipeline.EntrySchema(stateSchema)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := regclient.New(regclient.Config{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rc.Register(t.Context(), pipeline.StateSubject("user-stats"), entry); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runSchemasCLI(t, "schemas", "check", "--dir", "../../schemas", "-f", "../../pipelines.yaml", "--registry", url)
	if code != 0 || !strings.Contains(out, "user-stats-state-value") {
		t.Errorf("check with the state registered: exit %d, want 0 listing user-stats-state-value\n%s%s", code, out, errOut)
	}
	stateBreak := evolvedSchemas(t, map[string]any{"name": "channel", "type": []any{"null", "string"}, "default": nil})
	b, err := os.ReadFile("../../schemas/user_stats.avsc")
	if err != nil {
		t.Fatal(err)
	}
	var us map[string]any
	if err := json.Unmarshal(b, &us); err != nil {
		t.Fatal(err)
	}
	us["fields"] = append(us["fields"].([]any), map[string]any{"name": "sessions", "type": "long"})
	if b, err = json.Marshal(us); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateBreak, "schemas/user_stats.avsc"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runSchemasCLI(t, "schemas", "check", "--dir", filepath.Join(stateBreak, "schemas"), "-f", filepath.Join(stateBreak, "pipelines.yaml"), "--registry", url)
	if code != ExitFailure || !strings.Contains(out, "user-stats-state-value  INCOMPATIBLE") || !strings.Contains(out, `state field "sessions" is new and has no default`) {
		t.Errorf("check of a state field without a default: exit %d, want 1 naming the state subject and the field\n%s%s", code, out, errOut)
	}
	code, _, errOut = runSchemasCLI(t, "validate", "-f", filepath.Join(stateBreak, "pipelines.yaml"), "--registry", url)
	if code != ExitUsage || !strings.Contains(errOut, `pipelines.yaml:`) || !strings.Contains(errOut, `"sessions"`) {
		t.Errorf("validate of a state field without a default: exit %d, want 2 naming the position and the field\n%s", code, errOut)
	}

	// check registered nothing.
	if code, out, _ = runSchemasCLI(t, "schemas", "check", "--dir", "../../schemas", "-f", "../../pipelines.yaml", "--registry", url); code != 0 {
		t.Errorf("check after a failed check: exit %d\n%s", code, out)
	}
}
