package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
)

// theSecret is the password and token of every URL in these tests; it must
// never be printed.
const theSecret = "s3cret-Pa55"

// notARegistry answers 404 with an HTML page to everything, as a web server
// at a wrong path does.
func notARegistry(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><body><h1>404 Not Found</h1></body></html>")
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// withUserinfo returns base (http://host:port) with user:theSecret@ in it.
func withUserinfo(base, path string) string {
	return strings.Replace(base, "://", "://user:"+theSecret+"@", 1) + path
}

// `validate --registry` with credentials in the URL fails without showing
// them, whether the registry cannot be reached, answers as something else
// or the URL itself is wrong.
func TestValidateHidesRegistrySecret(t *testing.T) {
	web := notARegistry(t)
	for _, c := range []struct {
		name, url string
		want      string // in stderr: the failure, named with the redacted URL
	}{
		{"unreachable", "http://user:" + theSecret + "@127.0.0.1:1/", "http://127.0.0.1:1/subjects/"},
		{"wrong path", withUserinfo(web, "/wrong"), strings.TrimPrefix(web, "http://") + "/wrong/subjects/"},
		{"token in the query", web + "/?access_token=" + theSecret, "access_token=REDACTED"},
		{"unparsable userinfo", "http://user:" + theSecret + " x@127.0.0.1:1/", "invalid userinfo"},
		{"wrong scheme", "ftp://user:" + theSecret + "@127.0.0.1:1/", "want http:// or https://"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runOffline(t, nil, "validate", "-f", referencePipelines, "--registry", c.url)
			if r.code == ExitOK {
				t.Fatalf("validate accepted registry %s; stdout:\n%s", c.url, r.stdout)
			}
			if strings.Contains(r.stdout+r.stderr, theSecret) {
				t.Errorf("the secret was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr lacks %q:\n%s", c.want, r.stderr)
			}
		})
	}
}

// A broker address with credentials is refused, without showing them, by
// every command that takes --brokers and by kafka.brokers in the file.
func TestBrokerAddressSecretRefused(t *testing.T) {
	addr := "user:" + theSecret + "@127.0.0.1:1"
	file := secretsPipelines(t, "  brokers: "+addr+"\n")
	for _, c := range []struct {
		name string
		args []string
	}{
		{"run", []string{"run", "-f", referencePipelines, "--brokers", addr, "--registry", "http://127.0.0.1:1"}},
		{"consume", []string{"consume", "--topic", "t", "--brokers", addr}},
		{"produce", []string{"produce", "--topic", "t", "--brokers", addr}},
		{"dlq inspect", []string{"dlq", "inspect", "--topic", "t", "--brokers", addr}},
		{"registry serve", []string{"registry", "serve", "--addr", "127.0.0.1:0", "--brokers", addr}},
		{"kafka.brokers", []string{"validate", "-f", file}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runOffline(t, nil, c.args...)
			if r.code != ExitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", r.code, ExitUsage, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, theSecret) {
				t.Errorf("the secret was printed:\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}
			if !strings.Contains(r.stderr, `broker address "127.0.0.1:1" (credentials hidden)`) {
				t.Errorf("stderr does not name the address without its secret:\n%s", r.stderr)
			}
		})
	}
}

var opsAddr = regexp.MustCompile(`msg="serving operations endpoints" addr=(\S+)`)

// `run` against a registry URL with credentials that fails at start (cannot
// be reached, or is not a registry) keeps the credentials out of its log,
// its error and its /pipelines and /readyz answers.
func TestRunHidesRegistrySecret(t *testing.T) {
	env := testkit.Env(t)
	web := notARegistry(t)
	for _, c := range []struct{ name, url, shown string }{
		{"unreachable", "http://user:" + theSecret + "@127.0.0.1:1/", "http://127.0.0.1:1/"},
		{"wrong path", withUserinfo(web, "/wrong"), web + "/wrong/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			file := secretsPipelines(t, "")
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stderr := &registryLog{}
			stdout := &registryLog{}
			done := make(chan int, 1)
			go func() {
				done <- runWithEnv(ctx, []string{"run", "-f", file, "--registry", c.url, "--http-addr", "127.0.0.1:0", "--log-level", "debug", "--log-format", "text"},
					strings.NewReader(""), stdout, stderr, envOf(env))
			}()
			// Run until the log names the registry's (redacted) URL, or exits.
			exited := false
			testkit.Eventually(t, 60*time.Second, "a log line naming "+c.shown, func() bool {
				select {
				case <-done:
					exited = true
					return true
				default:
					return strings.Contains(stderr.String(), c.shown)
				}
			})
			var answers []string
			if m := opsAddr.FindStringSubmatch(stderr.String()); m != nil && !exited {
				for _, path := range []string{"/pipelines", "/readyz"} {
					answers = append(answers, httpGet(t, "http://"+m[1]+path))
				}
			} else if !exited {
				t.Fatalf("run did not log its operations address:\n%s", stderr.String())
			}
			cancel()
			if !exited {
				<-done
			}
			all := stdout.String() + stderr.String() + strings.Join(answers, "\n")
			if strings.Contains(all, theSecret) {
				t.Errorf("the secret was shown:\n%s", all)
			}
			if !strings.Contains(stderr.String(), c.shown) {
				t.Errorf("the log does not name the registry %s:\n%s", c.shown, stderr.String())
			}
		})
	}
}

// secretsPipelines writes a pipelines file of one Avro pipeline on topics of
// its own, so that its start needs the registry; kafka is more of the kafka
// section.
func secretsPipelines(t *testing.T, kafka string) string {
	t.Helper()
	return avroPipelines(t, testkit.Unique("secrets"), kafka)
}

// avroPipelines writes a pipelines file with one pipeline, name, that
// copies Avro UserEvents from name-in to name-out; extra goes between the
// kafka section's partitions and the pipelines (more kafka settings, or a
// registry section).
func avroPipelines(t *testing.T, name, extra string) string {
	t.Helper()
	schema, err := filepath.Abs(userEventSchema)
	if err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`version: 1
kafka:
  partitions: 1
%[3]spipelines:
  - name: %[1]s
    group: %[1]s
    input:
      topic: %[1]s-in
      codec: avro
      schema: %[2]s
    dead_letter: %[1]s-dlq
    outputs:
      out:
        topic: %[1]s-out
        codec: avro
        schema: %[2]s
    steps:
      - emit: out
`, name, schema, extra)
	file := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(file, []byte(testkit.SecureConfig(src)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return string(b)
}
