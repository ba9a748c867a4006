package registry

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contentType is what every response carries.
const contentType = "application/vnd.schemaregistry.v1+json"

// DefaultMaxSchemaBytes is the default limit on the size of a schema text.
const DefaultMaxSchemaBytes = 1 << 20

// Defaults of the connection timeouts (see WithReadHeaderTimeout, WithBodyReadTimeout, WithIdleTimeout).
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultBodyReadTimeout   = 30 * time.Second
	defaultIdleTimeout       = 60 * time.Second
)

// bodySlackBytes is what a request body may hold besides its schema: the JSON
// around it and its references.
const bodySlackBytes = 64 << 10

// Server serves the Confluent Schema Registry REST API over a Store.
type Server struct {
	store             Store
	log               *slog.Logger
	writeTimeout      time.Duration
	readHeaderTimeout time.Duration
	bodyReadTimeout   time.Duration
	idleTimeout       time.Duration
	maxSchemaBytes    int
	mux               *http.ServeMux
	// users, when not nil, are who may use the registry (WithUsers).
	users *Users
}

// Option configures a Server.
type Option func(*Server)

// WithLogger sets the logger for server-side failures (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *Server) {
		if l != nil {
			s.log = l
		}
	}
}

// WithWriteTimeout bounds how long a write waits for the store (default 30s).
func WithWriteTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.writeTimeout = d
		}
	}
}

// WithMaxSchemaBytes limits the size of a schema text (default
// DefaultMaxSchemaBytes); a larger one is refused with 413. Request bodies are
// limited to twice that plus 64 KiB, room for the schema's JSON escaping.
func WithMaxSchemaBytes(n int) Option {
	return func(s *Server) {
		if n > 0 {
			s.maxSchemaBytes = n
		}
	}
}

// WithBodyReadTimeout bounds how long a client may take to send a request
// body (default 30s); a slower one is answered 408 and disconnected. It holds
// under any http.Server, since the Server sets the connection's read deadline
// itself while it reads a body.
func WithBodyReadTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.bodyReadTimeout = d
		}
	}
}

// WithReadHeaderTimeout bounds how long a client may take to send request
// headers (default 10s). Like WithIdleTimeout, it is a setting of the
// http.Server that ListenAndServe builds for a *Server.
func WithReadHeaderTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.readHeaderTimeout = d
		}
	}
}

// WithIdleTimeout bounds how long a keep-alive connection may stay idle
// between requests (default 60s); see WithReadHeaderTimeout.
func WithIdleTimeout(d time.Duration) Option {
	return func(s *Server) {
		if d > 0 {
			s.idleTimeout = d
		}
	}
}

// NewServer returns an http.Handler serving the registry API backed by store.
func NewServer(store Store, opts ...Option) *Server {
	s := &Server{
		store:             store,
		log:               slog.New(slog.DiscardHandler),
		writeTimeout:      30 * time.Second,
		readHeaderTimeout: defaultReadHeaderTimeout,
		bodyReadTimeout:   defaultBodyReadTimeout,
		idleTimeout:       defaultIdleTimeout,
		maxSchemaBytes:    DefaultMaxSchemaBytes,
		mux:               http.NewServeMux(),
	}
	for _, o := range opts {
		o(s)
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, http.StatusOK, struct{}{}) })
	m.HandleFunc("GET /subjects", s.handleListSubjects)
	m.HandleFunc("POST /subjects/{subject}", s.handleLookup)
	m.HandleFunc("DELETE /subjects/{subject}", s.handleDeleteSubject)
	m.HandleFunc("GET /subjects/{subject}/versions", s.handleListVersions)
	m.HandleFunc("POST /subjects/{subject}/versions", s.handleRegister)
	m.HandleFunc("GET /subjects/{subject}/versions/{version}", s.handleGetVersion)
	m.HandleFunc("GET /subjects/{subject}/versions/{version}/schema", s.handleGetVersionSchema)
	m.HandleFunc("GET /subjects/{subject}/versions/{version}/referencedby", s.handleReferencedBy)
	m.HandleFunc("DELETE /subjects/{subject}/versions/{version}", s.handleDeleteVersion)
	m.HandleFunc("GET /schemas/types", s.handleTypes)
	m.HandleFunc("GET /schemas/ids/{id}", s.handleSchemaByID)
	m.HandleFunc("GET /schemas/ids/{id}/schema", s.handleSchemaTextByID)
	m.HandleFunc("GET /schemas/ids/{id}/versions", s.handleVersionsByID)
	m.HandleFunc("GET /schemas/ids/{id}/subjects", s.handleSubjectsByID)
	m.HandleFunc("POST /compatibility/subjects/{subject}/versions", s.handleCompatAll)
	m.HandleFunc("POST /compatibility/subjects/{subject}/versions/{version}", s.handleCompatVersion)
	m.HandleFunc("GET /config", s.handleGetGlobalConfig)
	m.HandleFunc("PUT /config", s.handlePutConfig)
	m.HandleFunc("DELETE /config", s.handleDeleteGlobalConfig)
	m.HandleFunc("GET /config/{subject}", s.handleGetSubjectConfig)
	m.HandleFunc("PUT /config/{subject}", s.handlePutConfig)
	m.HandleFunc("DELETE /config/{subject}", s.handleDeleteSubjectConfig)
	m.HandleFunc("/", s.handleUnrouted)
}

// handleUnrouted answers 405 (with Allow) for a known path and a wrong method, else 404.
func (s *Server) handleUnrouted(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.writeError(w, r, newAPIError(http.StatusMethodNotAllowed, http.StatusMethodNotAllowed,
			"HTTP 405 Method Not Allowed: %s %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	s.writeError(w, r, newAPIError(http.StatusNotFound, http.StatusNotFound, "HTTP 404 Not Found: no endpoint for %s %s", r.Method, r.URL.Path))
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.users != nil {
		if err := s.authorize(w, r); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if r.Body != nil && r.Body != http.NoBody {
		body, aerr := s.readBody(w, r)
		if aerr != nil {
			s.writeError(w, r, aerr)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	s.mux.ServeHTTP(w, r)
}

// maxBodyBytes bounds request bodies: a schema of the maximum size, escaped
// as a JSON string, plus its references.
func (s *Server) maxBodyBytes() int64 { return 2*int64(s.maxSchemaBytes) + bodySlackBytes }

// readBody reads the whole request body, at most maxBodyBytes, within the body
// read timeout: a client trickling a body must not hold a connection and a
// handler open. The deadline is lifted once the body is in, so that it cannot
// cancel a handler still waiting for the store (net/http cancels the request's
// context when its background read of the connection times out).
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	rc := http.NewResponseController(w)
	// Not every ResponseWriter (a recorder, a wrapping middleware) has a deadline to set.
	deadline := rc.SetReadDeadline(time.Now().Add(s.bodyReadTimeout)) == nil
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.maxBodyBytes()))
	if err == nil {
		if deadline {
			_ = rc.SetReadDeadline(time.Time{})
		}
		return body, nil
	}
	// On failure the deadline stays: net/http, which discards an unread body
	// after the handler, must not wait on the trickle either.
	var (
		tooBig *http.MaxBytesError
		netErr net.Error
	)
	switch {
	case errors.As(err, &tooBig):
		return nil, newAPIError(http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge,
			"request body larger than %d bytes: this registry accepts schemas of at most %d bytes", tooBig.Limit, s.maxSchemaBytes)
	case errors.As(err, &netErr) && netErr.Timeout():
		return nil, newAPIError(http.StatusRequestTimeout, http.StatusRequestTimeout,
			"request body not received within %v", s.bodyReadTimeout)
	}
	return nil, errBadRequest("reading the request body: %v", err)
}

func checkContentType(ct string) *apiError {
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		switch mt {
		case "application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json",
			"application/json", "application/octet-stream":
			return nil
		}
	}
	return newAPIError(http.StatusUnsupportedMediaType, http.StatusUnsupportedMediaType,
		"HTTP 415 Unsupported Media Type: %q; use application/vnd.schemaregistry.v1+json or application/json", ct)
}

// decodeBody reads one JSON object from the request body into v.
func decodeBody(r *http.Request, v any) *apiError {
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errBadRequest("empty request body: expected a JSON object")
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return newAPIError(http.StatusUnprocessableEntity, http.StatusUnprocessableEntity, "invalid request body: field %q: %v", typeErr.Field, err)
		}
		return errBadRequest("malformed JSON request body: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errBadRequest("malformed JSON request body: unexpected data after the JSON object")
	}
	return nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := storeError(err)
	if ae.status >= 500 {
		s.log.Error("schema registry request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	}
	writeJSON(w, ae.status, struct {
		ErrorCode int    `json:"error_code"`
		Message   string `json:"message"`
	}{ae.code, ae.message})
}

// queryBool reads a boolean query parameter; absent or unparsable is false.
func queryBool(r *http.Request, name string) bool {
	b, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return b
}

// versionParam is a parsed {version} path segment; latest is -1.
type versionParam struct {
	n      int
	latest bool
}

func parseVersion(s string) (versionParam, *apiError) {
	if s == "latest" {
		return versionParam{latest: true}, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	switch {
	case err != nil:
		return versionParam{}, errInvalidVersion(s)
	case n == -1:
		return versionParam{latest: true}, nil
	case n < 1:
		return versionParam{}, errInvalidVersion(s)
	}
	return versionParam{n: int(n)}, nil
}
