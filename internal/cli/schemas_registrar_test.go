package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
	"github.com/sluicehq/sluice/schemas"
)

// entry reads file from the embedded schemas, or from disk when it starts with "../".
func entry(t *testing.T, file, subject string) schemaEntry {
	t.Helper()
	var b []byte
	var err error
	if strings.HasPrefix(file, "../") {
		b, err = os.ReadFile(file)
	} else {
		b, err = schemas.ReadFile(file)
	}
	if err != nil {
		t.Fatal(err)
	}
	return schemaEntry{File: file, Subject: subject, Schema: string(b)}
}

func versions(t *testing.T, url, subject string) []int {
	t.Helper()
	resp, err := http.Get(url + "/subjects/" + subject + "/versions")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	var v []int
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestSchemasPushThenCheck(t *testing.T) {
	reg := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer reg.Close()
	ctx := context.Background()

	v1 := entry(t, "../../testdata/schemas/user_event_v1.avsc", "user-topic-value")
	v2 := entry(t, schemas.UserEventFile, "user-topic-value")
	stats := entry(t, schemas.UserStatsFile, "user-stats-value")

	var out bytes.Buffer
	if err := pushSchemas(ctx, schemasClient(t, reg.URL), []schemaEntry{v1, v2, stats}, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	wantRows := []string{
		`^SUBJECT\s+VERSION\s+ID\s+FILE$`,
		`^user-topic-value\s+1\s+1\s+\.\./\.\./testdata/schemas/user_event_v1\.avsc$`,
		`^user-topic-value\s+2\s+2\s+user_event\.avsc$`,
		`^user-stats-value\s+1\s+3\s+user_stats\.avsc$`,
	}
	if len(lines) != len(wantRows) {
		t.Fatalf("push output:\n%s", out.String())
	}
	for i, re := range wantRows {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d %q does not match %s", i, lines[i], re)
		}
	}

	// Pushing again changes nothing: same versions and ids.
	out.Reset()
	if err := pushSchemas(ctx, schemasClient(t, reg.URL), []schemaEntry{v2}, &out); err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`user-topic-value\s+2\s+2\s`).MatchString(out.String()) {
		t.Fatalf("re-push output:\n%s", out.String())
	}

	out.Reset()
	fresh := schemaEntry{File: "new.avsc", Subject: "brand-new-value", Schema: `"string"`}
	ok, err := checkSchemas(ctx, schemasClient(t, reg.URL), []schemaEntry{v2, stats, fresh}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		t.Fatalf("check failed:\n%s", out.String())
	}
	for _, re := range []string{`user-topic-value\s+compatible\s+user_event\.avsc`, `user-stats-value\s+compatible`, `brand-new-value\s+compatible \(new subject\)\s+new\.avsc`} {
		if !regexp.MustCompile(re).MatchString(out.String()) {
			t.Errorf("check output does not match %s:\n%s", re, out.String())
		}
	}
	if got := versions(t, reg.URL, "brand-new-value"); got != nil {
		t.Fatalf("Check registered a schema: %v", got)
	}
}

func TestSchemasCheckIncompatible(t *testing.T) {
	reg := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer reg.Close()
	ctx := context.Background()
	v2 := entry(t, schemas.UserEventFile, "user-topic-value")
	if err := pushSchemas(ctx, schemasClient(t, reg.URL), []schemaEntry{v2}, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}

	// A new required field cannot be read from data written without it: not BACKWARD.
	bad := v2
	bad.File = "user_event_bad.avsc"
	bad.Schema = strings.Replace(v2.Schema, `{"name": "country"`, `{"name": "device_id", "type": "string"},
    {"name": "country"`, 1)
	if bad.Schema == v2.Schema {
		t.Fatal("fixture edit did not apply")
	}
	var out bytes.Buffer
	ok, err := checkSchemas(ctx, schemasClient(t, reg.URL), []schemaEntry{bad}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if ok {
		t.Fatalf("incompatible schema passed:\n%s", out.String())
	}
	t.Logf("check output:\n%s", out.String())
	if !strings.Contains(out.String(), "INCOMPATIBLE") || !strings.Contains(out.String(), "device_id") {
		t.Fatalf("output does not report the field:\n%s", out.String())
	}
	if got := versions(t, reg.URL, "user-topic-value"); len(got) != 1 {
		t.Fatalf("versions after Check: %v, want [1]", got)
	}

	// Push refuses it with the registry's reason.
	err = pushSchemas(ctx, schemasClient(t, reg.URL), []schemaEntry{bad}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "user_event_bad.avsc") || !strings.Contains(err.Error(), "409") {
		t.Fatalf("Push of incompatible schema: %v", err)
	}
}

func TestSchemasRegistryUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	e := schemaEntry{File: "f.avsc", Subject: "s-value", Schema: `"string"`}
	if err := pushSchemas(context.Background(), schemasClient(t, url), []schemaEntry{e}, &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), "f.avsc") {
		t.Fatalf("Push: %v", err)
	}
	if ok, err := checkSchemas(context.Background(), schemasClient(t, url), []schemaEntry{e}, &bytes.Buffer{}); err == nil || ok {
		t.Fatalf("Check: %v %v", ok, err)
	}
}

// TestSchemasPushCheckOutput pins the exact output of push and check (it was
// the schemas package's ExamplePush).
func TestSchemasPushCheckOutput(t *testing.T) {
	reg := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	defer reg.Close()
	entries := []schemaEntry{entry(t, schemas.UserStatsFile, "user-stats-value")}
	var out bytes.Buffer
	if err := pushSchemas(context.Background(), schemasClient(t, reg.URL), entries, &out); err != nil {
		t.Fatal(err)
	}
	ok, err := checkSchemas(context.Background(), schemasClient(t, reg.URL), entries, &out)
	if !ok || err != nil {
		t.Fatalf("check: %v %v", ok, err)
	}
	want := `SUBJECT           VERSION  ID  FILE
user-stats-value  1        1   user_stats.avsc
user-stats-value  compatible  user_stats.avsc
`
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// schemasClient returns a client of the open registry at url.
func schemasClient(t *testing.T, url string) *regclient.Client {
	t.Helper()
	c, err := newSchemasRegistry(url)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
