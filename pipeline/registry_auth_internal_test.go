package pipeline

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

// registryPassword is the password of every registry user below; no log
// line or error may show it.
const registryPassword = "s3cret-Pa55"

// authConfig is avroTesterConfig with a registry section (url and how to
// authenticate) and the output's codec.
func authConfig(url, auth, outputCodec string) string {
	c := strings.Replace(avroTesterConfig, "version: 1\n", "version: 1\nregistry:\n  url: "+url+"\n"+auth, 1)
	if outputCodec == CodecAvro {
		c = strings.Replace(c, "codec: json", "codec: avro, schema: SCHEMAS/user_event.avsc", 1)
	}
	return c
}

// writeTesterConfig writes config, with SCHEMAS standing for the schemas
// folder, into a pipelines file and returns its path.
func writeTesterConfig(t *testing.T, config string) string {
	t.Helper()
	abs, err := filepath.Abs("../schemas")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(config, "SCHEMAS", abs)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// goodEvent registers the UserEvent schema under events-value through c and
// returns an event framed with its id.
func goodEvent(t *testing.T, c *regclient.Client) []byte {
	t.Helper()
	schemas := codecs.NewSchemas()
	reader, err := schemas.ParseFile("../schemas/user_event.avsc")
	if err != nil {
		t.Fatal(err)
	}
	writer, err := codecs.NewAvro(c, schemas, reader, codecs.WithSubject("events", codecs.TopicNameStrategy))
	if err != nil {
		t.Fatal(err)
	}
	good, err := writer.Encode(map[string]any{"user_id": "u1", "event_type": "purchase", "amount": 12.5, "ts": time.UnixMilli(1000), "country": "KR"})
	if err != nil {
		t.Fatal(err)
	}
	return good
}

// TestRegistryAuthAtStart: a registry that refuses the pipeline's
// credentials (401 for no or wrong ones, 403 for a reader that would
// register an output schema) stops the pipeline before it consumes, with an
// error that says so and shows no secret; the right ones let it start.
func TestRegistryAuthAtStart(t *testing.T) {
	users, err := registry.ParseUsers("writer:"+registryPassword+":read-write reader:"+registryPassword+":read-only", "users")
	if err != nil {
		t.Fatal(err)
	}
	store := registry.NewMemoryStore()
	srv := httptest.NewServer(registry.NewServer(store, registry.WithUsers(users)))
	defer srv.Close()
	direct := httptest.NewServer(registry.NewServer(store))
	defer direct.Close()
	c, err := regclient.New(regclient.Config{URL: direct.URL})
	if err != nil {
		t.Fatal(err)
	}
	goodEvent(t, c) // the input's subject exists

	basic := func(user, password string) string {
		return "  basic_auth: {username: " + user + ", password: " + password + "}\n"
	}
	for _, tc := range []struct {
		name, auth, output string
		refused            string // "" when the pipeline may start
	}{
		{"no credentials", "", "json", "(401)"},
		{"wrong password", basic("writer", "wrong-"+registryPassword), "json", "(401)"},
		{"unknown user", basic("mallory", registryPassword), "json", "(401)"},
		{"a token where basic auth is wanted", "  bearer_token: " + registryPassword + "\n", "json", "(401)"},
		{"a reader that registers an output schema", basic("reader", registryPassword), "avro", "(403)"},
		{"a reader", basic("reader", registryPassword), "json", ""},
		{"a writer", basic("writer", registryPassword), "avro", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs testkit.LogBuffer
			path := writeTesterConfig(t, authConfig(srv.URL, tc.auth, tc.output))
			cfg, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			rt, err := New(cfg, Options{CheckInterval: 10 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = rt.await(ctx, rt.runs[0])
			if ctx.Err() != nil {
				t.Fatalf("await waited instead of failing: %v\n%s", err, logs.String())
			}
			switch {
			case tc.refused == "" && err != nil:
				t.Fatalf("await: %v", err)
			case tc.refused != "" && (err == nil || !strings.Contains(err.Error(), "schema registry at "+srv.URL+" refused the credentials "+tc.refused)):
				t.Fatalf("await: %v, want the registry at %s refusing the credentials %s", err, srv.URL, tc.refused)
			}
			if err != nil && strings.Contains(err.Error(), registryPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
			if strings.Contains(logs.String(), registryPassword) {
				t.Errorf("the log shows the password:\n%s", logs.String())
			}
		})
	}
}

// TestRunnerRegistryAuthWhileRunning: a registry that starts refusing the
// pipeline's credentials while it runs (a rotated password) is an outage:
// the message is held, never dead-lettered, and processed once the
// credentials work again; the hold log names the 401 and not the password.
func TestRunnerRegistryAuthWhileRunning(t *testing.T) {
	store := registry.NewMemoryStore()
	right, err := registry.ParseUsers("sluice:"+registryPassword+":read-only", "users")
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := registry.ParseUsers("sluice:rotated-"+registryPassword+":read-only", "users")
	if err != nil {
		t.Fatal(err)
	}
	accepting := registry.NewServer(store, registry.WithUsers(right))
	refusing := registry.NewServer(store, registry.WithUsers(rotated))
	var refuse atomic.Bool
	var asked atomic.Int64
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if refuse.Load() {
			refusing.ServeHTTP(w, r)
			return
		}
		accepting.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	direct := httptest.NewServer(registry.NewServer(store))
	defer direct.Close()
	c, err := regclient.New(regclient.Config{URL: direct.URL})
	if err != nil {
		t.Fatal(err)
	}
	good := goodEvent(t, c)

	refuse.Store(true)
	var logs testkit.LogBuffer
	config := authConfig(proxy.URL, "  basic_auth: {username: sluice, password: "+registryPassword+"}\n", "json")
	tt, rt := runConfigWithTester(t, config, Options{
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	out, dlq := tt.NewQueueTracker("events-out"), tt.NewQueueTracker("events-dlq")
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		tt.Consume("events", "u1", good)
	}()
	waitFor(t, "the message to be held while the registry refuses the credentials", func() bool {
		c, _ := rt.Counts("events")
		return c.Waiting && asked.Load() >= 3
	})
	if c, _ := rt.Counts("events"); c.DeadLettered != 0 || c.Processed != 0 {
		t.Fatalf("counts while the registry refused the credentials: %+v", c)
	}
	refuse.Store(false)
	select {
	case <-consumed:
	case <-time.After(10 * time.Second):
		t.Fatal("the held message was not processed once the credentials worked again")
	}
	if _, v, ok := out.Next(); !ok || !strings.Contains(string(v.([]byte)), `"user_id":"u1"`) {
		t.Fatalf("output after the hold: %s %v", v, ok)
	}
	if _, _, _, ok := dlq.NextWithHeaders(); ok {
		t.Fatal("a good message was dead-lettered because the registry refused the credentials")
	}
	hold := logs.String()
	for _, want := range []string{"holding partition", "401 Unauthorized"} {
		if !strings.Contains(hold, want) {
			t.Errorf("hold log does not say %q:\n%s", want, hold)
		}
	}
	if strings.Contains(hold, registryPassword) {
		t.Errorf("hold log shows the password:\n%s", hold)
	}
}
