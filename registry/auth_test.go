package registry_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
)

// authServer serves an in-memory registry whose users are alice
// (read-write), bob (read-only) and carol (read-write, bcrypt hash).
func authServer(t *testing.T) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("carol-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	users, err := registry.ParseUsers("# sluice registry users\nalice:a:l:ce-pw:read-write\n\nbob:bob-pw:read-only carol:"+string(hash)+":read-write\n", "users")
	if err != nil {
		t.Fatal(err)
	}
	if users.Len() != 3 {
		t.Fatalf("Len = %d, want 3", users.Len())
	}
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore(), registry.WithUsers(users)))
	t.Cleanup(srv.Close)
	return srv.URL
}

type answer struct {
	status int
	code   int
	header http.Header
	body   string
}

func call(t *testing.T, client *http.Client, method, url, user, password, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
	if resp.StatusCode >= 400 {
		var e struct {
			Code    int    `json:"error_code"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Message == "" {
			t.Fatalf("%s %s: %d with a body that is no registry error: %q", method, url, resp.StatusCode, b)
		}
		a.code = e.Code
	}
	return a
}

// TestUsersAndRoles: without valid credentials every request gets 401 with
// a challenge; a read-only user reads, looks up and checks compatibility,
// and gets 403 for any write; a read-write user (plain or bcrypt password)
// does everything.
func TestUsersAndRoles(t *testing.T) {
	url := authServer(t)
	c := http.DefaultClient
	body := schemaBody(userEventV1)
	const versions = "/subjects/users-value/versions"

	for _, a := range []struct{ name, user, password string }{
		{"no credentials", "", ""},
		{"wrong password", "alice", "wrong"},
		{"unknown user", "mallory", "a:l:ce-pw"},
		{"another user's password", "bob", "a:l:ce-pw"},
	} {
		got := call(t, c, "GET", url+"/subjects", a.user, a.password, "")
		if got.status != 401 || got.code != 40101 || !strings.HasPrefix(got.header.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: GET /subjects = %d %d (WWW-Authenticate %q), want 401 40101 with a Basic challenge", a.name, got.status, got.code, got.header.Get("WWW-Authenticate"))
		}
		if got := call(t, c, "POST", url+versions, a.user, a.password, body); got.status != 401 {
			t.Errorf("%s: register = %d, want 401", a.name, got.status)
		}
	}

	if got := call(t, c, "POST", url+versions, "bob", "bob-pw", body); got.status != 403 || got.code != 40301 || !strings.Contains(got.body, "read-only") {
		t.Errorf("read-only register = %d %d %s, want 403 40301", got.status, got.code, got.body)
	}
	if got := call(t, c, "POST", url+versions, "alice", "a:l:ce-pw", body); got.status != 200 || !strings.Contains(got.body, `"id"`) {
		t.Fatalf("read-write register = %d %s", got.status, got.body)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/subjects", ""},
		{"GET", versions + "/latest", ""},
		{"GET", "/schemas/ids/1", ""},
		{"GET", "/config", ""},
		{"POST", "/subjects/users-value", body},
		{"POST", "/compatibility/subjects/users-value/versions/latest", body},
		{"POST", "/compatibility/subjects/users-value/versions", body},
	} {
		if got := call(t, c, r.method, url+r.path, "bob", "bob-pw", r.body); got.status != 200 {
			t.Errorf("read-only %s %s = %d %s, want 200", r.method, r.path, got.status, got.body)
		}
	}
	for _, r := range []struct{ method, path, body string }{
		{"PUT", "/config", `{"compatibility":"NONE"}`},
		{"PUT", "/config/users-value", `{"compatibility":"NONE"}`},
		{"DELETE", "/config", ""},
		{"DELETE", versions + "/1", ""},
		{"DELETE", "/subjects/users-value", ""},
		{"POST", "/subjects/other-value/versions", body},
		{"POST", "/no/such/route", body},
	} {
		if got := call(t, c, r.method, url+r.path, "bob", "bob-pw", r.body); got.status != 403 || got.code != 40301 {
			t.Errorf("read-only %s %s = %d %d, want 403 40301", r.method, r.path, got.status, got.code)
		}
	}
	// carol's password is a bcrypt hash: accepted twice (the second time
	// from the cache), a wrong one never.
	for range 2 {
		if got := call(t, c, "PUT", url+"/config", "carol", "carol-pw", `{"compatibility":"BACKWARD"}`); got.status != 200 {
			t.Errorf("bcrypt user PUT /config = %d %s", got.status, got.body)
		}
	}
	if got := call(t, c, "GET", url+"/config", "carol", "carol-pw2", ""); got.status != 401 {
		t.Errorf("bcrypt user, wrong password: %d", got.status)
	}
}

// TestParseUsersErrors: a bad entry is reported by line, without quoting a
// password (or what may be one).
func TestParseUsersErrors(t *testing.T) {
	for _, c := range []struct{ name, text, want string }{
		{"no colon", "s3cret-pw", "line 1: an entry is not user:password:role"},
		{"no role", "# users\nalice:s3cret-pw", "line 2: an entry is not user:password:role"},
		{"unknown role", "alice:s3cret-pw:admin", "user alice: the role after the password's last ':' must be read-write or read-only"},
		{"role forgotten, colon in the password", "alice:s3cret:pw", "user alice: the role"},
		{"empty password", "alice::read-only", "user alice has an empty password"},
		{"empty user", ":s3cret-pw:read-only", "not user:password:role"},
		{"twice", "alice:s3cret-pw:read-only\nalice:s3cret-pw:read-write", "line 2: user alice is listed twice"},
		{"bad bcrypt", "alice:$2y$10$s3cret-pw:read-only", "not a valid one"},
		{"empty", "# nobody\n\n", "lists no user"},
	} {
		_, err := registry.ParseUsers(c.text, "users.txt")
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "users.txt") {
			t.Errorf("%s: %v, want an error naming users.txt and saying %q", c.name, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: the error shows the password: %v", c.name, err)
		}
	}
}

// TestListenAndServeTLS: the registry serves https with the given
// certificate, and requires a client certificate when given client CAs.
func TestListenAndServeTLS(t *testing.T) {
	certFile, keyFile := testkit.SelfSignedCert(t)
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)

	for _, mutual := range []bool{false, true} {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		if mutual {
			cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequireAndVerifyClientCert
		}
		ctx, cancel := context.WithCancel(context.Background())
		addrc := make(chan net.Addr, 1)
		done := make(chan error, 1)
		go func() {
			done <- registry.ListenAndServeTLS(ctx, "127.0.0.1:0", registry.NewServer(registry.NewMemoryStore()), cfg, func(a net.Addr) { addrc <- a })
		}()
		url := "https://" + (<-addrc).String() + "/schemas/types"
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		resp, err := client.Get(url)
		switch {
		case !mutual && err != nil:
			t.Errorf("GET %s: %v", url, err)
		case !mutual:
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET %s: %d", url, resp.StatusCode)
			}
		case err == nil:
			resp.Body.Close()
			t.Errorf("mutual TLS: a client without a certificate got %d", resp.StatusCode)
		}
		if mutual {
			withCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}}}
			resp, err := withCert.Get(url)
			if err != nil {
				t.Errorf("mutual TLS with a client certificate: %v", err)
			} else {
				resp.Body.Close()
			}
		}
		// Go's TLS server answers plain HTTP with a bare 400.
		if resp, err := http.Get(strings.Replace(url, "https://", "http://", 1)); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("plain HTTP to the TLS listener: %d, want 400", resp.StatusCode)
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("ListenAndServeTLS: %v", err)
		}
	}
}
