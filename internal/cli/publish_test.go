package cli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry/regclient"
)

var publishLog = regexp.MustCompile(`msg="serving publish routes" addr=\S+ routes=\[/publish/events\]`)

// TestRunServesPublishRoutes: `sluice run` serves the publish route of its
// pipelines.yaml on --http-addr; records posted with the route's token land
// in the topic, keyed by user_id and framed with the registered schema id
// (read back with `sluice consume`), and the pipeline reading that topic
// decodes them; a request without the token is refused and produces
// nothing.
func TestRunServesPublishRoutes(t *testing.T) {
	env := testkit.Env(t)
	u := testkit.Unique("publish")
	in, out := u+"-in", u+"-out"
	testkit.CreateTopic(t, env.Brokers(), in, 3, nil)
	schema, err := filepath.Abs(userEventSchema)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("t0ken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: ${SLUICE_BROKERS}
publish:
  - path: /publish/events
    topic: %[1]s
    schema: %[3]s
    key_field: user_id
    auth: {bearer_token_file: %[4]s}
pipelines:
  - name: copy
    group: %[2]s
    input: {topic: %[1]s, codec: avro, schema: %[3]s}
    dead_letter: %[2]s-dlq
    outputs:
      out: {topic: %[2]s, codec: json}
    steps:
      - emit: out
`, in, out, schema, tokenFile)
	file := filepath.Join(dir, "pipelines.yaml")
	if err := os.WriteFile(file, []byte(testkit.SecureConfig(src)), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runCLI(t, env, "", "validate", "-f", file); r.code != ExitOK {
		t.Fatalf("validate: exit %d\n%s", r.code, r.stderr)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var runErr syncBuffer
	runDone := make(chan int, 1)
	getenv := envOf(env)
	go func() {
		runDone <- runWithEnv(ctx, []string{"run", "-f", file, "--http-addr", "127.0.0.1:0"}, strings.NewReader(""), &syncBuffer{}, &runErr,
			func(k string) string {
				if k == envLogFormat {
					return "text"
				}
				return getenv(k)
			})
	}()
	addr := testkit.EventuallyValue(t, time.Minute, "run to serve its endpoints", func() (string, bool) {
		m := opsAddr.FindStringSubmatch(runErr.String())
		if m == nil {
			return runErr.String(), false
		}
		return m[1], true
	})
	if !publishLog.MatchString(runErr.String()) {
		t.Errorf("run does not log the publish routes it serves:\n%s", runErr.String())
	}

	body := `{"user_id":"u1","event_type":"purchase","amount":12.5,"ts":1700000000000}
{"user_id":"u2","event_type":"click","amount":0,"ts":1700000001000,"country":"KR"}
`
	if code, answer := postPublish(t, "http://"+addr+"/publish/events", body, ""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d %s", code, answer)
	}
	code, answer := postPublish(t, "http://"+addr+"/publish/events", body, "t0ken")
	if code != http.StatusOK || !strings.Contains(answer, `"records":[{"partition":`) {
		t.Fatalf("with the token: %d %s", code, answer)
	}

	recs := consumeAll(t, env, in, 2, "--codec", "avro")
	byUser := map[string]map[string]any{}
	for _, r := range recs {
		var v map[string]any
		if err := json.Unmarshal(r.Value, &v); err != nil {
			t.Fatalf("consume: %s: %v", r.Value, err)
		}
		if r.Key == nil || *r.Key != v["user_id"] {
			t.Errorf("record %s: key %v, want its user_id", r.Value, r.Key)
		}
		byUser[fmt.Sprint(v["user_id"])] = v
	}
	reg, err := regclient.New(regclient.Config{URL: env.RegistryURL()})
	if err != nil {
		t.Fatal(err)
	}
	registered, err := reg.SchemaByVersion(t.Context(), in+"-value", 1)
	if err != nil {
		t.Fatalf("the route's schema is not registered under %s-value: %v", in, err)
	}
	for _, r := range consumeAll(t, env, in, 2, "--codec", "bytes") {
		frame, err := base64.StdEncoding.DecodeString(r.ValueBase64)
		if err != nil {
			t.Fatal(err)
		}
		if id, ok := codecs.FrameSchemaID(frame); !ok || id != registered.ID {
			t.Errorf("record at %d/%d is framed with schema id %d (%v), want %d", r.Partition, r.Offset, id, ok, registered.ID)
		}
	}
	if byUser["u1"]["amount"] != 12.5 || byUser["u2"]["country"] != "KR" || byUser["u2"]["event_type"] != "click" {
		t.Errorf("consumed values %v", byUser)
	}
	copied := consumeAll(t, env, out, 2)
	for _, r := range copied {
		if !strings.Contains(string(r.Value), `"user_id"`) {
			t.Errorf("the pipeline wrote %s", r.Value)
		}
	}
	cancel()
	if code := testkit.Await(t, time.Minute, "run to stop", runDone); code != ExitOK {
		t.Errorf("run exited %d:\n%s", code, runErr.String())
	}
}

// postPublish posts NDJSON to url with a bearer token (none when empty).
func postPublish(t *testing.T, url, body, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
