package registry

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// contentType is what every response carries.
const contentType = "application/vnd.schemaregistry.v1+json"

// maxBodyBytes bounds request bodies.
const maxBodyBytes = 16 << 20

// Server serves the Confluent Schema Registry REST API over a Store.
type Server struct {
	store        Store
	log          *slog.Logger
	writeTimeout time.Duration
	mux          *http.ServeMux
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

// NewServer returns an http.Handler serving the registry API backed by store.
func NewServer(store Store, opts ...Option) *Server {
	s := &Server{
		store:        store,
		log:          slog.New(slog.DiscardHandler),
		writeTimeout: 30 * time.Second,
		mux:          http.NewServeMux(),
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
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
			s.writeError(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	s.mux.ServeHTTP(w, r)
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
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			return newAPIError(http.StatusRequestEntityTooLarge, http.StatusRequestEntityTooLarge, "request body larger than %d bytes", tooBig.Limit)
		case errors.Is(err, io.EOF):
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
		s.log.Error("schema registry request failed", "method", r.Method, "path", r.URL.Path, "err", err)
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
