package pipeline_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// registryPipeline is a pipelines file of one JSON pipeline whose registry
// section the cases below replace.
const registryPipeline = `version: 1
registry:
REGISTRY
pipelines:
  - name: p
    input: {topic: in, codec: json}
    dead_letter: dlq
    outputs:
      out: {topic: out, codec: json}
    steps:
      - emit: out
`

// theSecret is every password and token below; no error may show it.
const theSecret = "s3cret-Pa55"

func loadRegistry(t *testing.T, section string, env map[string]string) (*pipeline.Config, error) {
	t.Helper()
	src := strings.Replace(registryPipeline, "REGISTRY", section, 1)
	return pipeline.Parse("pipelines.yaml", []byte(src), pipeline.WithGetenv(func(k string) string { return env[k] }))
}

// The registry section takes basic auth or a bearer token, each secret from
// its value (${ENV} included) or a *_file, and a tls block.
func TestLoadRegistryAuth(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "password")
	if err := os.WriteFile(pwFile, []byte(theSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	caFile, _ := testkit.SelfSignedCert(t)
	env := map[string]string{"SR_USER": "alice", "SR_PASSWORD": theSecret, "SR_TOKEN": theSecret}
	for _, c := range []struct {
		name, section string
		want          pipeline.Registry
	}{
		{"basic auth from env", "  url: https://sr.example\n  basic_auth: {username: '${SR_USER}', password: '${SR_PASSWORD}'}",
			pipeline.Registry{URL: "https://sr.example", Username: "alice", Password: theSecret}},
		{"password file", "  url: https://sr.example\n  basic_auth:\n    username: alice\n    password_file: " + pwFile,
			pipeline.Registry{URL: "https://sr.example", Username: "alice", Password: theSecret}},
		{"bearer token", "  url: https://sr.example\n  bearer_token: ${SR_TOKEN}",
			pipeline.Registry{URL: "https://sr.example", BearerToken: theSecret}},
		{"bearer token file", "  url: https://sr.example\n  bearer_token_file: " + pwFile,
			pipeline.Registry{URL: "https://sr.example", BearerToken: theSecret}},
		{"tls", "  url: https://sr.example\n  tls: {ca_file: " + caFile + ", server_name: sr.internal}",
			pipeline.Registry{URL: "https://sr.example"}},
		{"credentials in the URL still work", "  url: http://alice:" + theSecret + "@sr.example",
			pipeline.Registry{URL: "http://alice:" + theSecret + "@sr.example"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := loadRegistry(t, c.section, env)
			if err != nil {
				t.Fatal(err)
			}
			r := cfg.Registry
			if r.URL != c.want.URL || r.Username != c.want.Username || r.Password != c.want.Password || r.BearerToken != c.want.BearerToken {
				t.Errorf("registry %+v, want %+v", r, c.want) // String hides the secrets; compare the fields
			}
			if c.name == "tls" && (!r.TLS.Enabled || r.TLS.CAFile != caFile || r.TLS.ServerName != "sr.internal") {
				t.Errorf("tls %+v", r.TLS)
			}
			if _, err := r.Client(""); err != nil {
				t.Errorf("Client: %v", err)
			}
			for _, shown := range []string{fmt.Sprintf("%v", r), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", r)} {
				if strings.Contains(shown, theSecret) {
					t.Errorf("printing the configuration shows the secret: %s", shown)
				}
			}
		})
	}
}

// A registry section that cannot authenticate as meant is a lint, at its
// position, that never shows the secret.
func TestLoadRegistryAuthErrors(t *testing.T) {
	env := map[string]string{"SR_PASSWORD": theSecret, "EMPTY": ""}
	for _, c := range []struct{ name, section, want string }{
		{"both ways", "  url: https://sr.example\n  basic_auth: {username: a, password: " + theSecret + "}\n  bearer_token: " + theSecret,
			"pipelines.yaml:4:15: basic_auth and bearer_token are both set"},
		{"no password", "  url: https://sr.example\n  basic_auth: {username: a}",
			`pipelines.yaml:4:15: missing required field "password" (or password_file)`},
		{"no username", "  url: https://sr.example\n  basic_auth: {password: '${SR_PASSWORD}'}",
			`missing required field "username"`},
		{"empty password", "  url: https://sr.example\n  basic_auth: {username: a, password: '${EMPTY:-}'}",
			"password is empty"},
		{"empty token", "  url: https://sr.example\n  bearer_token: ''",
			"pipelines.yaml:4:17: bearer_token is empty"},
		{"password twice", "  url: https://sr.example\n  basic_auth: {username: a, password: x, password_file: /nope}",
			"password and password_file are both set"},
		{"unreadable token file", "  url: https://sr.example\n  bearer_token_file: /nonexistent/" + theSecret,
			"reading bearer_token_file"},
		{"colon in the username", "  url: https://sr.example\n  basic_auth: {username: 'a:b', password: x}",
			"a basic auth username cannot contain ':'"},
		{"credentials in the URL and basic auth", "  url: http://alice:" + theSecret + "@sr.example\n  basic_auth: {username: a, password: x}",
			"pipelines.yaml:3:8: the URL has credentials (user:password@) and basic_auth or bearer_token is set too"},
		{"tls on http", "  url: http://sr.example\n  tls: {server_name: sr.internal}",
			"pipelines.yaml:4:8: tls is set but registry.url is http://: use an https:// URL"},
		{"misspelled", "  url: https://sr.example\n  basic_auth: {username: a, pasword: x}",
			`unknown field "pasword"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := loadRegistry(t, c.section, env)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want %q", err, c.want)
			}
			if c.name != "unreadable token file" && strings.Contains(err.Error(), theSecret) {
				t.Errorf("the error shows the secret: %v", err)
			}
		})
	}
}
