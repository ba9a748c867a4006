// Package regclient is Sluice's one client for a Confluent-compatible schema
// registry: the runtime's codecs, `sluice validate --registry`, `sluice schemas
// push|check`, `sluice produce|consume` and the demo all use it.
//
// It wraps franz-go's pkg/sr. That choice replaced riferrei/srclient, which
// takes no context.Context on any call (a stopping pipeline had to wait out a
// registry timeout) and turns a non-JSON error body into a plain string (so
// errors were classified by their text). pkg/sr has a context on every call,
// reports every non-2xx answer as *sr.ResponseError with the status, the
// registry's error code and the raw body, and has basic-auth, bearer-token and
// TLS options. This package keeps its surface to what Sluice calls and adds:
//
//   - one error type, *Error, for every non-2xx answer, with the registry's
//     own error code (Code) when the body is a registry JSON error, and a
//     short, bounded snippet of the body when it is not;
//   - IsAuthFailure, true for 401 and 403: the registry refuses the
//     credentials, which Sluice reports at startup and treats like an outage
//     while running (never as a fault of the message);
//   - IsNotFound, true only for the registry's not-found codes (40401
//     subject, 40402 version, 40403 schema). A bare 404 (a wrong URL path), an
//     HTML page, 401/403, 5xx, a transport failure or a timeout is not "not
//     found": those say nothing about the data, and Sluice treats them as a
//     dependency failure;
//   - no secret in errors or String: userinfo in the URL becomes basic auth
//     and is never shown (see internal/redact); tokens never reach any text.
//
// A Client is safe for concurrent use and does no I/O until a method is called.
package regclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/redact"
)

// DefaultTimeout bounds each request when Config.Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Latest names the latest version of a subject where a version is asked for.
const Latest = -1

// Config says where the registry is and how to authenticate.
type Config struct {
	// URL is the registry's base URL: http:// or https://, host, and an
	// optional path prefix. Userinfo (http://user:password@host) is used as
	// basic auth and never shown.
	URL string
	// Username and Password set basic auth (instead of URL userinfo).
	Username string
	Password string
	// BearerToken sets "Authorization: Bearer <token>" (instead of basic auth).
	BearerToken string
	// TLS configures https connections (nil: the system's roots).
	TLS *tls.Config
	// Timeout bounds each request, including reading the answer; 0 means
	// DefaultTimeout.
	Timeout time.Duration
}

// Client talks to one schema registry.
type Client struct {
	sr  *sr.Client
	url string // base URL without userinfo
}

// Schema is a registered schema.
type Schema struct {
	ID int
	// Version is the schema's version under the subject it was asked by; 0
	// when it was fetched by id.
	Version int
	// Type is "AVRO", "JSON" or "PROTOBUF".
	Type string
	// Text is the schema itself.
	Text string
	// References are the schemas Text refers to (JSON Schema $refs,
	// Protobuf imports, Avro named types), by subject and version.
	References []Reference
}

// New checks cfg and returns a client. It does no I/O.
func New(cfg Config) (*Client, error) {
	base, user, pass, err := checkURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if user != "" && (cfg.Username != "" || cfg.Password != "") {
		return nil, fmt.Errorf("schema registry %s: credentials both in the URL and in Username/Password", base)
	}
	if cfg.Username != "" || cfg.Password != "" {
		user, pass = cfg.Username, cfg.Password
	}
	if user == "" && pass != "" {
		return nil, fmt.Errorf("schema registry %s: a password without a username", base)
	}
	if user != "" && cfg.BearerToken != "" {
		return nil, fmt.Errorf("schema registry %s: both basic auth and a bearer token", base)
	}
	if cfg.TLS != nil && strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("schema registry %s: TLS settings for an http:// URL: use https://", base)
	}
	timeout := cfg.Timeout
	switch {
	case timeout < 0:
		return nil, fmt.Errorf("schema registry %s: negative timeout %v", base, timeout)
	case timeout == 0:
		timeout = DefaultTimeout
	}
	opts := []sr.ClientOpt{
		sr.URLs(base),
		sr.HTTPClient(&http.Client{Timeout: timeout}),
		sr.UserAgent("sluice"),
	}
	if user != "" {
		opts = append(opts, sr.BasicAuth(user, pass))
	}
	if cfg.BearerToken != "" {
		opts = append(opts, sr.BearerToken(cfg.BearerToken))
	}
	if cfg.TLS != nil {
		opts = append(opts, sr.DialTLSConfig(cfg.TLS.Clone()))
	}
	cl, err := sr.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("schema registry %s: %w", base, err)
	}
	return &Client{sr: cl, url: base}, nil
}

// checkURL validates raw and splits it into the base URL without userinfo
// (and without a trailing slash) and the userinfo's user and password.
func checkURL(raw string) (base, user, pass string, err error) {
	if strings.TrimSpace(raw) == "" {
		return "", "", "", errors.New("schema registry: empty URL")
	}
	shown := redact.URL(raw)
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error repeats the URL, password and all
		}
		return "", "", "", fmt.Errorf("schema registry URL %q: %v", shown, err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", "", "", fmt.Errorf("schema registry URL %q: want http:// or https://", shown)
	case u.Hostname() == "":
		return "", "", "", fmt.Errorf("schema registry URL %q: no host", shown)
	case u.RawQuery != "" || u.Fragment != "":
		return "", "", "", fmt.Errorf("schema registry URL %q: a query or fragment has no place in a base URL", shown)
	}
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
		u.User = nil
	}
	return strings.TrimRight(u.String(), "/"), user, pass, nil
}

// URL returns the registry's base URL, without userinfo.
func (c *Client) URL() string { return c.url }

// String returns the registry's base URL, without userinfo.
func (c *Client) String() string { return c.url }

// SchemaByID returns the schema registered under id (GET /schemas/ids/{id}).
func (c *Client) SchemaByID(ctx context.Context, id int) (Schema, error) {
	s, err := c.sr.SchemaByID(ctx, id)
	if err != nil {
		return Schema{}, c.fail(err)
	}
	if s.Schema == "" {
		return Schema{}, c.notRegistry(fmt.Sprintf("/schemas/ids/%d", id), "no schema")
	}
	return Schema{ID: id, Type: s.Type.String(), Text: s.Schema, References: references(s.References)}, nil
}

// SchemaByVersion returns version (or Latest) of subject (GET
// /subjects/{subject}/versions/{version}).
func (c *Client) SchemaByVersion(ctx context.Context, subject string, version int) (Schema, error) {
	if err := checkVersion(version); err != nil {
		return Schema{}, err
	}
	s, err := c.sr.SchemaByVersion(ctx, subject, version)
	if err != nil {
		return Schema{}, c.fail(err)
	}
	if s.Schema.Schema == "" || s.ID < 1 {
		return Schema{}, c.notRegistry("/subjects/"+url.PathEscape(subject)+"/versions", "no schema or id")
	}
	return Schema{ID: s.ID, Version: s.Version, Type: s.Type.String(), Text: s.Schema.Schema, References: references(s.References)}, nil
}

// Register registers the Avro schema under subject and returns its id (POST
// /subjects/{subject}/versions). Registering a schema the subject already has
// returns its id and creates no version.
func (c *Client) Register(ctx context.Context, subject, schema string) (int, error) {
	id, err := c.sr.RegisterSchema(ctx, subject, sr.Schema{Schema: schema}, -1, -1)
	if err != nil {
		return 0, c.fail(err)
	}
	if id < 1 {
		return 0, c.notRegistry("/subjects/"+url.PathEscape(subject)+"/versions", "no id")
	}
	return id, nil
}

// Lookup returns the id and version of the Avro schema under subject (POST
// /subjects/{subject}); it registers nothing.
func (c *Client) Lookup(ctx context.Context, subject, schema string) (id, version int, err error) {
	s, err := c.sr.LookupSchema(ctx, subject, sr.Schema{Schema: schema})
	if err != nil {
		return 0, 0, c.fail(err)
	}
	if s.ID < 1 {
		return 0, 0, c.notRegistry("/subjects/"+url.PathEscape(subject), "no id")
	}
	return s.ID, s.Version, nil
}

// Versions returns the versions registered under subject (GET
// /subjects/{subject}/versions).
func (c *Client) Versions(ctx context.Context, subject string) ([]int, error) {
	vs, err := c.sr.SubjectVersions(ctx, subject)
	if err != nil {
		return nil, c.fail(err)
	}
	return vs, nil
}

// CheckCompatibility asks whether the Avro schema may follow version (or
// Latest) of subject under the subject's compatibility level (POST
// /compatibility/subjects/{subject}/versions/{version}?verbose=true). It
// registers nothing. messages are the registry's reasons when it is not
// compatible.
func (c *Client) CheckCompatibility(ctx context.Context, subject string, version int, schema string) (compatible bool, messages []string, err error) {
	if err := checkVersion(version); err != nil {
		return false, nil, err
	}
	res, err := c.sr.CheckCompatibility(sr.WithParams(ctx, sr.Verbose), subject, version, sr.Schema{Schema: schema})
	if err != nil {
		return false, nil, c.fail(err)
	}
	return res.Is, res.Messages, nil
}

// SchemaTypes returns the schema types the registry supports (GET
// /schemas/types). It is a cheap "is this a schema registry" probe.
func (c *Client) SchemaTypes(ctx context.Context) ([]string, error) {
	var types []string
	if err := c.sr.Do(ctx, http.MethodGet, "/schemas/types", nil, &types); err != nil {
		return nil, c.fail(err)
	}
	return types, nil
}

func checkVersion(v int) error {
	if v < 1 && v != Latest {
		return fmt.Errorf("schema registry: version %d: want 1 or more, or Latest", v)
	}
	return nil
}
