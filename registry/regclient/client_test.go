package regclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/registry"
	"github.com/sluicehq/sluice/registry/regclient"
)

// The UserEvent schemas of internal/testkit, under short names.
const (
	userEventV1          = testkit.UserEventV1
	userEventV2          = testkit.UserEventV2
	userEventV3Bad       = testkit.UserEventV3Bad
	userEventV1Reordered = testkit.UserEventV1Reordered
)

// serve returns the URL of sluice's in-memory registry behind httptest.
func serve(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(registry.NewServer(registry.NewMemoryStore()))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newClient(t *testing.T, cfg regclient.Config) *regclient.Client {
	t.Helper()
	c, err := regclient.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantAnswer checks that err is the registry's answer with status and code,
// and whether it is a not-found.
func wantAnswer(t *testing.T, err error, status, code int, notFound bool) *regclient.Error {
	t.Helper()
	var e *regclient.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T): want *regclient.Error", err, err)
	}
	if e.StatusCode != status || e.Code != code {
		t.Fatalf("error %v: status %d code %d, want %d %d", err, e.StatusCode, e.Code, status, code)
	}
	if got := regclient.IsNotFound(err); got != notFound {
		t.Fatalf("IsNotFound(%v) = %v, want %v", err, got, notFound)
	}
	return e
}

// TestClientCalls drives every call against sluice's registry, with the answers
// and error codes the callers rely on.
func TestClientCalls(t *testing.T) {
	ctx := context.Background()
	c := newClient(t, regclient.Config{URL: serve(t) + "/"})
	const subj = "user-topic-value"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	types, err := c.SchemaTypes(ctx)
	must(err)
	if !slices.Equal(types, []string{"JSON", "PROTOBUF", "AVRO"}) {
		t.Fatalf("SchemaTypes = %v", types)
	}

	id, err := c.Register(ctx, subj, userEventV1)
	must(err)
	if id != 1 {
		t.Fatalf("Register v1 = %d", id)
	}
	if id, err = c.Register(ctx, subj, userEventV1Reordered); err != nil || id != 1 {
		t.Fatalf("re-registering v1 = %d, %v; want 1", id, err)
	}
	if id, err = c.Register(ctx, subj, userEventV2); err != nil || id != 2 {
		t.Fatalf("Register v2 = %d, %v; want 2", id, err)
	}
	_, err = c.Register(ctx, subj, userEventV3Bad)
	if e := wantAnswer(t, err, http.StatusConflict, 409, false); !strings.Contains(e.Message, "region") {
		t.Fatalf("409 message %q does not name the field", e.Message)
	}
	_, err = c.Register(ctx, subj, `{"type":"record","name":"X"}`)
	wantAnswer(t, err, http.StatusUnprocessableEntity, 42201, false)

	gotID, version, err := c.Lookup(ctx, subj, userEventV2)
	must(err)
	if gotID != 2 || version != 2 {
		t.Fatalf("Lookup v2 = id %d version %d", gotID, version)
	}
	_, _, err = c.Lookup(ctx, subj, userEventV3Bad)
	wantAnswer(t, err, http.StatusNotFound, regclient.CodeSchemaNotFound, true)
	_, _, err = c.Lookup(ctx, "nope", userEventV1)
	wantAnswer(t, err, http.StatusNotFound, regclient.CodeSubjectNotFound, true)

	s, err := c.SchemaByID(ctx, 2)
	must(err)
	if s.ID != 2 || s.Version != 0 || s.Type != "AVRO" || s.Text != userEventV2 {
		t.Fatalf("SchemaByID(2) = %+v", s)
	}
	_, err = c.SchemaByID(ctx, 42)
	wantAnswer(t, err, http.StatusNotFound, regclient.CodeSchemaNotFound, true)

	s, err = c.SchemaByVersion(ctx, subj, regclient.Latest)
	must(err)
	if s.ID != 2 || s.Version != 2 || s.Text != userEventV2 {
		t.Fatalf("SchemaByVersion(latest) = %+v", s)
	}
	s, err = c.SchemaByVersion(ctx, subj, 1)
	must(err)
	if s.ID != 1 || s.Version != 1 || s.Text != userEventV1 {
		t.Fatalf("SchemaByVersion(1) = %+v", s)
	}
	_, err = c.SchemaByVersion(ctx, subj, 9)
	wantAnswer(t, err, http.StatusNotFound, regclient.CodeVersionNotFound, true)
	if _, err := c.SchemaByVersion(ctx, subj, 0); err == nil {
		t.Fatal("SchemaByVersion(0) succeeded")
	}

	versions, err := c.Versions(ctx, subj)
	must(err)
	if !slices.Equal(versions, []int{1, 2}) {
		t.Fatalf("Versions = %v", versions)
	}
	_, err = c.Versions(ctx, "nope")
	wantAnswer(t, err, http.StatusNotFound, regclient.CodeSubjectNotFound, true)

	ok, msgs, err := c.CheckCompatibility(ctx, subj, regclient.Latest, userEventV3Bad)
	must(err)
	if ok || !strings.Contains(strings.Join(msgs, " "), "region") {
		t.Fatalf("CheckCompatibility(latest, v3) = %v %v", ok, msgs)
	}
	ok, _, err = c.CheckCompatibility(ctx, subj, 1, userEventV2)
	must(err)
	if !ok {
		t.Fatal("v2 reported incompatible with version 1")
	}
	_, _, err = c.CheckCompatibility(ctx, subj, 7, userEventV2)
	wantAnswer(t, err, http.StatusNotFound, regclient.CodeVersionNotFound, true)
	ok, _, err = c.CheckCompatibility(ctx, "brand-new", regclient.Latest, userEventV2)
	if err != nil || !ok {
		t.Fatalf("latest of a new subject: %v %v; want compatible", ok, err)
	}

	// The same schema under another subject keeps its id; a subject with a
	// space round-trips.
	if id, err = c.Register(ctx, "other value", userEventV1); err != nil || id != 1 {
		t.Fatalf("v1 under another subject = %d, %v; want 1", id, err)
	}
	if gotID, version, err = c.Lookup(ctx, "other value", userEventV1Reordered); err != nil || gotID != 1 || version != 1 {
		t.Fatalf("Lookup under a subject with a space = %d/%d, %v", gotID, version, err)
	}
	if versions, err = c.Versions(ctx, "other value"); err != nil || !slices.Equal(versions, []int{1}) {
		t.Fatalf("Versions of a subject with a space = %v, %v", versions, err)
	}
}

// TestErrorClassification: only the registry's own not-found codes are "not
// found"; a wrong path, a page that is not the registry's, auth failures,
// server errors, transport failures and cancellations are not, and every
// error names the request.
func TestErrorClassification(t *testing.T) {
	reg := serve(t)
	text := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	jsonAnswer := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/vnd.schemaregistry.v1+json")
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	bigPage := "<html><body>" + strings.Repeat("<p>not here</p>\n", 1<<16) + "</body></html>"

	for _, tc := range []struct {
		name         string
		url          string
		status, code int
		notFound     bool
		msgHas       string
	}{
		{"unknown id", reg, 404, 40403, true, "not found"},
		{"wrong path on the registry", reg + "/wrong", 404, 404, false, "no endpoint"},
		{"plain 404", text(404, "404 page not found\n"), 404, 0, false, "404 page not found"},
		{"html 404", text(404, "<html><head><title>404 Not Found</title></head>\n<body><h1>Not Found</h1></body></html>"), 404, 0, false, "<title>404 Not Found</title>"},
		{"huge html 404", text(404, bigPage), 404, 0, false, "<p>not here</p>"},
		{"json 404 without a registry code", jsonAnswer(404, `{"message":"HTTP 404 Not Found"}`), 404, 0, false, ""},
		{"401 json", jsonAnswer(401, `{"error_code":40101,"message":"Unauthorized"}`), 401, 40101, false, "Unauthorized"},
		{"401 plain", text(401, "Unauthorized"), 401, 0, false, "Unauthorized"},
		{"403", jsonAnswer(403, `{"error_code":40301,"message":"User cannot access the resource."}`), 403, 40301, false, "cannot access"},
		{"500 json", jsonAnswer(500, `{"error_code":50001,"message":"Error in the backend data store"}`), 500, 50001, false, "backend"},
		{"502 html", text(502, "<html>Bad Gateway</html>"), 502, 0, false, "Bad Gateway"},
		{"empty 503", text(503, ""), 503, 0, false, "empty body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, regclient.Config{URL: tc.url})
			_, err := c.SchemaByID(context.Background(), 7)
			e := wantAnswer(t, err, tc.status, tc.code, tc.notFound)
			if got, want := regclient.IsAuthFailure(err), tc.status == 401 || tc.status == 403; got != want {
				t.Errorf("IsAuthFailure = %v, want %v", got, want)
			}
			if e.Method != http.MethodGet || e.URL != tc.url+"/schemas/ids/7" {
				t.Errorf("request %s %s, want GET %s/schemas/ids/7", e.Method, e.URL, tc.url)
			}
			if !strings.Contains(e.Message, tc.msgHas) || len(e.Message) > 2100 {
				t.Errorf("message (%d bytes) %q: want it bounded and to contain %q", len(e.Message), e.Message, tc.msgHas)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.url+"/schemas/ids/7") || !strings.Contains(msg, http.StatusText(tc.status)) || len(msg) > 2500 {
				t.Errorf("error text %q does not name the request and the answer, or is too long", msg)
			}
		})
	}

	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		_, err := newClient(t, regclient.Config{URL: url}).SchemaByID(context.Background(), 7)
		wantTransport(t, err, url)
		var ne *net.OpError
		if !errors.As(err, &ne) {
			t.Errorf("error %v does not carry the dial error", err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newClient(t, regclient.Config{URL: reg}).SchemaByID(ctx, 1)
		wantTransport(t, err, reg)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v is not context.Canceled", err)
		}
	})
	t.Run("context cancelled while waiting", func(t *testing.T) {
		hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer hang.Close()
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err := newClient(t, regclient.Config{URL: hang.URL}).SchemaByID(ctx, 1)
		wantTransport(t, err, hang.URL)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("error %v is not context.Canceled", err)
		}
	})
	t.Run("timeout", func(t *testing.T) {
		hang := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
		defer hang.Close()
		_, err := newClient(t, regclient.Config{URL: hang.URL, Timeout: 50 * time.Millisecond}).SchemaByID(context.Background(), 1)
		wantTransport(t, err, hang.URL)
		var te interface{ Timeout() bool }
		if !errors.As(err, &te) || !te.Timeout() {
			t.Errorf("error %v is not a timeout", err)
		}
	})
	t.Run("answer that is not a registry's", func(t *testing.T) {
		ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte(`{}`)) }))
		defer ok.Close()
		_, err := newClient(t, regclient.Config{URL: ok.URL}).SchemaByID(context.Background(), 1)
		if err == nil || regclient.IsNotFound(err) || !strings.Contains(err.Error(), ok.URL) {
			t.Fatalf("a 200 {} for a schema: %v", err)
		}
	})
}

// wantTransport checks a failure to get any answer: no *Error, not a
// not-found, and the text names the request.
func wantTransport(t *testing.T, err error, url string) {
	t.Helper()
	var e *regclient.Error
	if err == nil || errors.As(err, &e) || regclient.IsNotFound(err) {
		t.Fatalf("error %v: want a transport failure", err)
	}
	if !strings.Contains(err.Error(), "GET "+url+"/schemas/ids/") {
		t.Fatalf("error %q does not name the request", err)
	}
}

// TestCredentialsNeverShown: URL userinfo and tokens authenticate, and never
// appear in String, URL or any error.
func TestCredentialsNeverShown(t *testing.T) {
	store := registry.NewServer(registry.NewMemoryStore())
	var gotUser, gotPass, gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPass, _ = r.BasicAuth()
		gotAuth = r.Header.Get("Authorization")
		if strings.HasPrefix(r.URL.Path, "/html") {
			http.Error(w, "<html>gone</html>", http.StatusNotFound)
			return
		}
		store.ServeHTTP(w, r)
	}))
	defer srv.Close()
	withUser := strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1)
	secret := func(s string) bool {
		return strings.Contains(s, "s3cret") || strings.Contains(s, "alice") || strings.Contains(s, "t0ken")
	}

	c := newClient(t, regclient.Config{URL: withUser})
	if secret(c.String()) || secret(c.URL()) || c.URL() != srv.URL {
		t.Fatalf("String %q, URL %q: want %q", c.String(), c.URL(), srv.URL)
	}
	if _, err := c.SchemaTypes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gotUser != "alice" || gotPass != "s3cret" {
		t.Fatalf("basic auth from the URL: %q %q", gotUser, gotPass)
	}
	_, err := c.SchemaByID(context.Background(), 9)
	wantAnswer(t, err, 404, regclient.CodeSchemaNotFound, true)
	if secret(err.Error()) {
		t.Fatalf("error shows credentials: %v", err)
	}
	html := newClient(t, regclient.Config{URL: withUser + "/html"})
	if _, err := html.SchemaByID(context.Background(), 9); err == nil || secret(err.Error()) {
		t.Fatalf("error shows credentials: %v", err)
	}

	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := strings.Replace(refused.URL, "http://", "http://alice:s3cret@", 1)
	refused.Close()
	_, err = newClient(t, regclient.Config{URL: refusedURL}).SchemaByID(context.Background(), 9)
	if err == nil || secret(err.Error()) {
		t.Fatalf("transport error shows credentials: %v", err)
	}

	bearer := newClient(t, regclient.Config{URL: srv.URL, BearerToken: "t0ken"})
	if _, err := bearer.SchemaTypes(context.Background()); err != nil {
		t.Fatal(err)
	}
	if gotAuth != "Bearer t0ken" {
		t.Fatalf("Authorization %q", gotAuth)
	}
	if _, err := bearer.SchemaByID(context.Background(), 9); err == nil || secret(err.Error()) {
		t.Fatalf("error shows the token: %v", err)
	}

	basic := newClient(t, regclient.Config{URL: srv.URL, Username: "alice", Password: "s3cret"})
	if _, err := basic.SchemaTypes(context.Background()); err != nil || gotUser != "alice" || gotPass != "s3cret" {
		t.Fatalf("basic auth from Config: %q %q %v", gotUser, gotPass, err)
	}

	for _, bad := range []string{"http://alice:s3cret@host:port", "ftp://alice:s3cret@host", "http://alice:s3cret@host/?x=1", "http://alice:s3cret@:8081"} {
		if _, err := regclient.New(regclient.Config{URL: bad}); err == nil || secret(err.Error()) {
			t.Errorf("New(%q) = %v: want an error without credentials", bad, err)
		}
	}
}

func TestNewChecksConfig(t *testing.T) {
	for name, cfg := range map[string]regclient.Config{
		"empty":                       {},
		"no scheme":                   {URL: "registry:8081"},
		"other scheme":                {URL: "ftp://registry"},
		"no host":                     {URL: "http://"},
		"query":                       {URL: "http://registry:8081?x=1"},
		"fragment":                    {URL: "http://registry:8081#x"},
		"userinfo and Username":       {URL: "http://a:b@registry", Username: "c", Password: "d"},
		"password without username":   {URL: "http://registry", Password: "d"},
		"basic auth and bearer token": {URL: "http://registry", Username: "c", BearerToken: "t"},
		"negative timeout":            {URL: "http://registry", Timeout: -time.Second},
		"TLS for an http URL":         {URL: "http://registry", TLS: &tls.Config{}},
	} {
		if _, err := regclient.New(cfg); err == nil {
			t.Errorf("%s: New(%+v) accepted", name, cfg)
		}
	}
	// New does no I/O: nothing listens on a closed port, and New is fine.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	c, err := regclient.New(regclient.Config{URL: srv.URL + "/prefix/"})
	if err != nil || c.URL() != srv.URL+"/prefix" {
		t.Fatalf("New = %v, %v", c, err)
	}
}

func TestTLS(t *testing.T) {
	srv := httptest.NewUnstartedServer(registry.NewServer(registry.NewMemoryStore()))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake below
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	c := newClient(t, regclient.Config{URL: srv.URL, TLS: &tls.Config{RootCAs: pool}})
	if _, err := c.SchemaTypes(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := newClient(t, regclient.Config{URL: srv.URL}).SchemaTypes(context.Background())
	if err == nil || regclient.IsNotFound(err) {
		t.Fatalf("untrusted certificate: %v", err)
	}
}
