package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
)

// theToken is the bearer token of the tests below; like theSecret (the
// registry password), it must never be printed.
const theToken = "b3arer-T0ken"

// authRegistry serves an in-memory registry that requires credentials:
// basic auth of writer (read-write) or reader (read-only), both with
// password theSecret, or the bearer token theToken, as a gateway in front of
// a registry would check it.
func authRegistry(t *testing.T) string {
	t.Helper()
	users, err := registry.ParseUsers("writer:"+theSecret+":read-write\nreader:"+theSecret+":read-only\n", "users")
	if err != nil {
		t.Fatal(err)
	}
	store := registry.NewMemoryStore()
	basic := registry.NewServer(store, registry.WithUsers(users))
	open := registry.NewServer(store)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		switch {
		case !bearer:
			basic.ServeHTTP(w, r)
		case token == theToken:
			open.ServeHTTP(w, r)
		default:
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error_code":40101,"message":"invalid token"}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// authPipelines writes a pipelines file of one Avro pipeline named name, on
// topics <name>-in, -out and -dlq, whose registry section is registry.
func authPipelines(t *testing.T, name, registry string) string {
	t.Helper()
	return avroPipelines(t, name, "registry:\n"+registry+"\n")
}

// cliWith runs the CLI with env as its environment, bounded by cliTimeout.
// A Kafka security variable env does not set comes from the test cluster's
// settings (testkit.Kafka), as with runCLI.
func cliWith(t *testing.T, env map[string]string, stdin string, args ...string) cliResult {
	t.Helper()
	return runGetenv(t, envWith(env), stdin, args...)
}

// TestRegistryAuth runs pipelines against a registry that requires
// credentials. Wrong ones (a password, a token) stop `run` at start with
// "schema registry at <url> refused the credentials (401)" and fail
// `validate --registry`; the right ones let produce, run and consume do
// their work. Nothing any command prints — logs, errors, validate's output,
// /pipelines, /readyz, /metrics — shows the password or the token.
func TestRegistryAuth(t *testing.T) {
	env := testkit.Env(t)
	brokers := strings.Join(env.Brokers(), ",")
	url := authRegistry(t)
	passwordFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(passwordFile, []byte(theSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var printed []string // everything the commands printed or answered
	show := func(r cliResult) cliResult {
		printed = append(printed, r.stdout, r.stderr)
		return r
	}
	name := testkit.Unique("regauth")
	basicFile := authPipelines(t, name, "  url: "+url+"\n  basic_auth: {username: writer, password: '${SR_PASSWORD}'}")
	bearerFile := authPipelines(t, name, "  url: "+url+"\n  bearer_token: ${SR_TOKEN}")
	refused := "schema registry at " + url + " refused the credentials (401)"

	t.Run("wrong credentials", func(t *testing.T) {
		for _, c := range []struct {
			name string
			file string
			env  map[string]string
		}{
			{"password", basicFile, map[string]string{"SR_PASSWORD": "not-the-password"}},
			{"token", bearerFile, map[string]string{"SR_TOKEN": "not-the-token"}},
			{"password from the environment", bearerFile, map[string]string{"SR_TOKEN": theToken,
				envRegistryUsername: "writer", envRegistryPassword: "not-the-password"}},
		} {
			c.env[envBrokers] = brokers
			r := show(cliWith(t, c.env, "", "run", "-f", c.file, "--http-addr", "127.0.0.1:0"))
			if r.code == ExitOK || !strings.Contains(r.stderr, refused) {
				t.Errorf("%s: run exited %d; want a failure saying %q:\n%s", c.name, r.code, refused, r.stderr)
			}
			r = show(cliWith(t, c.env, "", "validate", "-f", c.file, "--registry", url))
			if r.code == ExitOK || !strings.Contains(r.stderr, refused) {
				t.Errorf("%s: validate --registry exited %d; want a failure saying %q:\n%s", c.name, r.code, refused, r.stderr)
			}
		}
	})

	// The right credentials: produce registers the input's schema and
	// writes one event, run turns it into an output, consume reads it.
	testkit.CreateTopic(t, env.Brokers(), name+"-in", 1, nil)
	r := show(cliWith(t, map[string]string{envBrokers: brokers, envRegistryURL: url, envRegistryUsername: "writer", envRegistryPassword: theSecret},
		`{"user_id":"u1","event_type":"purchase","amount":12.5,"ts":1700000000000}`+"\n",
		"produce", "--topic", name+"-in", "--schema", userEventSchema, "--key-field", "user_id"))
	if r.code != ExitOK {
		t.Fatalf("produce: exit %d\n%s", r.code, r.stderr)
	}
	for _, file := range []string{basicFile, bearerFile} {
		r := show(cliWith(t, map[string]string{"SR_PASSWORD": theSecret, "SR_TOKEN": theToken}, "", "validate", "-f", file, "--registry", url))
		if r.code != ExitOK || !strings.Contains(r.stdout, "valid (1 pipelines") {
			t.Errorf("validate -f %s --registry: exit %d\n%s%s", file, r.code, r.stdout, r.stderr)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var runOut, runErr syncBuffer
	runDone := make(chan int, 1)
	go func() {
		runDone <- runWithEnv(ctx, []string{"run", "-f", basicFile, "--http-addr", "127.0.0.1:0", "--log-level", "debug", "--log-format", "text"}, strings.NewReader(""), &runOut, &runErr,
			envWith(map[string]string{envBrokers: brokers, "SR_PASSWORD": theSecret}))
	}()
	consumed := show(cliWith(t, map[string]string{envBrokers: brokers},
		"", "consume", "--topic", name+"-out", "--from-beginning", "--max", "1", safety,
		"--registry", url, "--registry-username", "reader", "--registry-password-file", passwordFile))
	recs := parseRecords(t, consumed.stdout)
	if consumed.code != ExitOK || len(recs) != 1 || !strings.Contains(string(recs[0].Value), `"user_id":"u1"`) {
		t.Fatalf("consume of the output: exit %d, %d records %v\n%s\nrun's log:\n%s", consumed.code, len(recs), recs, consumed.stderr, runErr.String())
	}
	m := opsAddr.FindStringSubmatch(runErr.String())
	if m == nil {
		t.Fatalf("run did not log its operations address:\n%s", runErr.String())
	}
	for _, path := range []string{"/pipelines", "/readyz", "/metrics"} {
		printed = append(printed, httpGet(t, "http://"+m[1]+path))
	}
	var status []json.RawMessage
	if err := json.Unmarshal([]byte(printed[len(printed)-3]), &status); err != nil || len(status) != 1 {
		t.Errorf("/pipelines: %v %s", err, printed[len(printed)-3])
	}
	cancel()
	if code := testkit.Await(t, time.Minute, "run to stop", runDone); code != ExitOK {
		t.Errorf("run exited %d:\n%s", code, runErr.String())
	}
	printed = append(printed, runOut.String(), runErr.String())

	all := strings.Join(printed, "\n")
	for _, secret := range []string{theSecret, theToken} {
		if strings.Contains(all, secret) {
			t.Errorf("a command printed the secret %s:\n%s", secret, all)
		}
	}
}

// TestRegistryServeAuthTLS: `registry serve` with a certificate and a users
// file serves https and requires basic auth; `schemas push` trusts it with
// --registry-ca-file and authenticates with --registry-username and the
// password from the environment or a file. A reader's push is refused (403),
// and no command prints the password.
func TestRegistryServeAuthTLS(t *testing.T) {
	certFile, keyFile := testkit.SelfSignedCert(t)
	dir := t.TempDir()
	usersFile := filepath.Join(dir, "users")
	if err := os.WriteFile(usersFile, []byte("# the registry's users\nwriter:"+theSecret+":read-write\nreader:"+theSecret+":read-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	passwordFile := filepath.Join(dir, "password")
	if err := os.WriteFile(passwordFile, []byte(theSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr, serveLog, stop, code := startRegistry(t, []string{"--memory", "--addr", "127.0.0.1:0",
		"--tls-cert-file", certFile, "--tls-key-file", keyFile, "--users-file", usersFile}, nil)
	defer func() {
		stop()
		testkit.Await(t, time.Minute, "registry serve to exit after cancel", code)
	}()
	if !strings.Contains(serveLog.String(), `tls=true auth="basic (2 users)"`) {
		t.Errorf("the serving line does not say how the registry is protected:\n%s", serveLog.String())
	}
	url := "https://" + addr
	push := func(env map[string]string, args ...string) cliResult {
		return cliWith(t, env, "", append([]string{"schemas", "push", "--dir", "../../schemas", "-f", referencePipelines, "--registry", url}, args...)...)
	}
	var printed []string
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string // in stdout when it succeeds, in stderr when it fails
		ok   bool
	}{
		{"no CA", nil, []string{"--registry-username", "writer", "--registry-password-file", passwordFile}, "certificate", false},
		{"no credentials", nil, []string{"--registry-ca-file", certFile}, "401 Unauthorized", false},
		{"a reader", map[string]string{envRegistryUsername: "reader", envRegistryPassword: theSecret}, []string{"--registry-ca-file", certFile}, "403 Forbidden", false},
		{"a writer, password from the environment", map[string]string{envRegistryUsername: "writer", envRegistryPassword: theSecret, envRegistryCAFile: certFile}, nil, "user-topic-value", true},
		{"a writer, password from a file", nil, []string{"--registry-ca-file", certFile, "--registry-username", "writer", "--registry-password-file", passwordFile}, "user-topic-value", true},
	} {
		r := push(c.env, c.args...)
		printed = append(printed, r.stdout, r.stderr)
		switch {
		case c.ok && (r.code != ExitOK || !strings.Contains(r.stdout, c.want)):
			t.Errorf("%s: exit %d, want success printing %q\n%s%s", c.name, r.code, c.want, r.stdout, r.stderr)
		case !c.ok && (r.code == ExitOK || !strings.Contains(r.stderr, c.want)):
			t.Errorf("%s: exit %d, want a failure saying %q\n%s%s", c.name, r.code, c.want, r.stdout, r.stderr)
		}
	}
	if all := strings.Join(printed, "\n") + serveLog.String(); strings.Contains(all, theSecret) {
		t.Errorf("the password was printed:\n%s", all)
	}
}

// TestRegistryServeUsersFromEnv: the users may come from
// $SLUICE_REGISTRY_USERS; without TLS the command warns that passwords cross
// the network in clear text.
func TestRegistryServeUsersFromEnv(t *testing.T) {
	addr, serveLog, stop, code := startRegistry(t, []string{"--memory", "--addr", "127.0.0.1:0"},
		map[string]string{envRegistryUsers: "reader:" + theSecret + ":read-only"})
	defer func() {
		stop()
		testkit.Await(t, time.Minute, "registry serve to exit after cancel", code)
	}()
	if got := registryCall(t, "GET", "http://"+addr+"/subjects", ""); !strings.Contains(got, `"error_code":40101`) {
		t.Errorf("GET /subjects without credentials = %s, want a 40101 error", got)
	}
	if got := registryCall(t, "GET", "http://reader:"+theSecret+"@"+addr+"/subjects", ""); got != "[]" {
		t.Errorf("GET /subjects as reader = %s", got)
	}
	if log := serveLog.String(); !strings.Contains(log, "passwords cross the network in clear text") || strings.Contains(log, theSecret) {
		t.Errorf("log:\n%s", log)
	}
}

// Bad security settings are usage errors that show no secret.
func TestRegistryAuthUsage(t *testing.T) {
	certFile, _ := testkit.SelfSignedCert(t)
	badUsers := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(badUsers, []byte("writer:"+theSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"cert without key", nil, []string{"registry", "serve", "--memory", "--tls-cert-file", certFile}, "--tls-cert-file and --tls-key-file go together"},
		{"client CA without cert", nil, []string{"registry", "serve", "--memory", "--tls-client-ca-file", certFile}, "--tls-client-ca-file needs"},
		{"key that is no key", nil, []string{"registry", "serve", "--memory", "--tls-cert-file", certFile, "--tls-key-file", certFile}, "tls: loading cert_file"},
		{"users twice", map[string]string{envRegistryUsers: "a:" + theSecret + ":read-only"}, []string{"registry", "serve", "--memory", "--users-file", badUsers}, "give the users one way"},
		{"users file without a role", nil, []string{"registry", "serve", "--memory", "--users-file", badUsers}, badUsers + " line 1: an entry is not user:password:role"},
		{"users file missing", nil, []string{"registry", "serve", "--memory", "--users-file", badUsers + "-nope"}, "--users-file"},
		{"password without user", map[string]string{envRegistryPassword: theSecret}, []string{"validate", "-f", referencePipelines, "--registry", "http://127.0.0.1:1"}, "a password without a user"},
		{"user without password", nil, []string{"validate", "-f", referencePipelines, "--registry", "http://127.0.0.1:1", "--registry-username", "writer"}, "user writer has no password"},
		{"password twice", map[string]string{envRegistryUsername: "writer", envRegistryPassword: theSecret}, []string{"validate", "-f", referencePipelines, "--registry", "http://127.0.0.1:1", "--registry-password-file", badUsers}, "give the secret one way"},
		{"user and token", map[string]string{envRegistryUsername: "writer", envRegistryBearerToken: theToken}, []string{"consume", "--topic", "t", "--registry", "http://127.0.0.1:1", "--brokers", "127.0.0.1:1", "--schema", userEventSchema}, "both a user"},
		{"CA file for an http URL", nil, []string{"validate", "-f", referencePipelines, "--registry", "http://127.0.0.1:1", "--registry-ca-file", certFile}, "TLS settings for an http:// URL"},
		{"missing CA file", nil, []string{"schemas", "check", "--dir", "../../schemas", "-f", referencePipelines, "--registry", "https://127.0.0.1:1", "--registry-ca-file", certFile + "-nope"}, "ca_file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runOffline(t, c.env, c.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, ExitUsage, c.want)
			}
			if strings.Contains(r.stdout+r.stderr, theSecret) || strings.Contains(r.stdout+r.stderr, theToken) {
				t.Errorf("a secret was printed:\n%s%s", r.stdout, r.stderr)
			}
		})
	}
}
