package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/internal/testkit"
)

// registryLog is a goroutine-safe buffer for the command's stderr.
type registryLog struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *registryLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *registryLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

var servingAddr = regexp.MustCompile(`msg="schema registry serving" addr=(\S+)`)

// startRegistry runs `sluice registry serve args...` until the returned cancel
// is called; it returns the served address and a channel with the exit code.
func startRegistry(t *testing.T, args []string, env map[string]string) (string, *registryLog, context.CancelFunc, <-chan int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &registryLog{}
	code := make(chan int, 1)
	go func() {
		code <- runWithEnv(ctx, append([]string{"--log-format", "text", "registry", "serve"}, args...), strings.NewReader(""), io.Discard, stderr,
			func(k string) string { return env[k] })
	}()
	// Wait for the "serving" log line (or an early exit); the timeout only
	// keeps a broken command from hanging the test.
	deadline := time.After(30 * time.Second)
	for {
		if m := servingAddr.FindStringSubmatch(stderr.String()); m != nil {
			return m[1], stderr, cancel, code
		}
		select {
		case c := <-code:
			cancel()
			t.Fatalf("registry serve exited with %d before serving: %s", c, stderr.String())
		case <-deadline:
			cancel()
			t.Fatalf("registry serve did not log its address: %s", stderr.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

func registryCall(t *testing.T, method, url, body string) string {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(string(b))
}

func TestRegistryServeMemory(t *testing.T) {
	addr, stderr, stop, code := startRegistry(t, []string{"--memory", "--addr", "127.0.0.1:0"}, nil)
	base := "http://" + addr
	if got := registryCall(t, "GET", base+"/config", ""); got != `{"compatibilityLevel":"BACKWARD"}` {
		t.Fatalf("GET /config = %s", got)
	}
	if got := registryCall(t, "POST", base+"/subjects/s/versions", `{"schema":"\"string\""}`); got != `{"id":1}` {
		t.Fatalf("register = %s", got)
	}
	stop()
	if c := testkit.Await(t, time.Minute, "registry serve to exit after cancel", code); c != ExitOK {
		t.Fatalf("exit code %d after cancel; stderr: %s", c, stderr.String())
	}
	if log := stderr.String(); !strings.Contains(log, "store=memory") || !strings.Contains(log, "schema registry stopped") {
		t.Fatalf("log: %s", log)
	}
	if _, err := http.Get(base + "/config"); err == nil {
		t.Fatal("still serving after the context was cancelled")
	}
}

func TestRegistryServeMaxSchemaBytes(t *testing.T) {
	addr, _, stop, code := startRegistry(t, []string{"--memory", "--addr", "127.0.0.1:0", "--max-schema-bytes", "20"}, nil)
	defer func() { stop(); <-code }()
	base := "http://" + addr + "/subjects/s/versions"
	if got := registryCall(t, "POST", base, `{"schema":"\"string\""}`); got != `{"id":1}` {
		t.Fatalf("register a small schema = %s", got)
	}
	big := `{"schema":"{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}"}`
	if got := registryCall(t, "POST", base, big); !strings.Contains(got, `"error_code":413`) || !strings.Contains(got, "limit of 20 bytes") {
		t.Fatalf("register a schema over --max-schema-bytes = %s", got)
	}
}

// TestRegistryServeKafka takes the brokers from $SLUICE_BROKERS and keeps
// schemas across a restart of the command.
func TestRegistryServeKafka(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	env := map[string]string{"SLUICE_BROKERS": strings.Join(c.ListenAddrs(), ",")}

	addr, stderr, stop, code := startRegistry(t, []string{"--addr", "127.0.0.1:0"}, env)
	if got := registryCall(t, "POST", "http://"+addr+"/subjects/s/versions", `{"schema":"\"string\""}`); got != `{"id":1}` {
		t.Fatalf("register = %s", got)
	}
	stop()
	if c := testkit.Await(t, time.Minute, "registry serve to exit after cancel", code); c != ExitOK {
		t.Fatalf("exit code %d; stderr: %s", c, stderr.String())
	}
	if !strings.Contains(stderr.String(), "store=kafka") {
		t.Fatalf("log: %s", stderr.String())
	}

	addr, _, stop, code = startRegistry(t, []string{"--addr", "127.0.0.1:0"}, env)
	defer func() {
		stop()
		testkit.Await(t, time.Minute, "the restarted registry serve to exit after cancel", code)
	}()
	if got := registryCall(t, "GET", "http://"+addr+"/subjects/s/versions/1", ""); got != `{"subject":"s","version":1,"id":1,"schema":"\"string\""}` {
		t.Fatalf("after restart: %s", got)
	}
}

func TestRegistryServeUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"neither store", []string{"registry", "serve"}, "--brokers"},
		{"both stores", []string{"registry", "serve", "--memory", "--brokers", "127.0.0.1:9092"}, "mutually exclusive"},
		{"extra argument", []string{"registry", "serve", "--memory", "now"}, "unexpected argument"},
		{"unknown flag", []string{"registry", "serve", "--nope"}, "unknown flag"},
		{"no schema size", []string{"registry", "serve", "--memory", "--max-schema-bytes", "0"}, "--max-schema-bytes"},
		{"no subcommand", []string{"registry"}, "serve"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := runWithEnv(context.Background(), tc.args, strings.NewReader(""), io.Discard, &stderr, func(string) string { return "" })
			if code != ExitUsage || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", code, stderr.String(), ExitUsage, tc.want)
			}
		})
	}
}
