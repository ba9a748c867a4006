package pipeline

import (
	"fmt"
	"strings"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/processors/config"
)

// Defaults and bounds of a publish route (the top-level publish list).
const (
	// DefaultPublishMaxBody is the largest request body a route takes
	// unless max_body_bytes says otherwise.
	DefaultPublishMaxBody = 1 << 20
	// MaxPublishMaxBody bounds max_body_bytes: a request is held in memory
	// whole until every record of it is validated.
	MaxPublishMaxBody = 64 << 20
	// DefaultPublishTimeout bounds how long a request waits for the
	// broker's acknowledgement before it is answered 503.
	DefaultPublishTimeout = 5 * time.Second
)

// PublishRoute is one HTTP publish route: POST Path takes JSON records,
// validates them against Schema and produces them to Topic, keyed by the
// KeyField of each record.
type PublishRoute struct {
	Path  string
	Topic string
	// SchemaPath is the schema file as written in the configuration;
	// Schema is that file parsed.
	SchemaPath string
	Schema     avro.Schema
	// KeyField names a top-level field of Schema whose value is the record
	// key; empty produces records without a key.
	KeyField string
	// BearerToken, when set, is the token a request must present in
	// "Authorization: Bearer" (auth.bearer_token or auth.bearer_token_file).
	// It is a secret: String leaves it out.
	BearerToken  string
	MaxBodyBytes int64
	Timeout      time.Duration
	Pos          config.Pos
}

// String describes r without its token.
func (r PublishRoute) String() string {
	auth := "none"
	if r.BearerToken != "" {
		auth = "bearer token"
	}
	return fmt.Sprintf("{Path:%s Topic:%s Schema:%s KeyField:%s Auth:%s MaxBodyBytes:%d Timeout:%s}",
		r.Path, r.Topic, r.SchemaPath, r.KeyField, auth, r.MaxBodyBytes, r.Timeout)
}

// GoString is String, for %#v.
func (r PublishRoute) GoString() string { return r.String() }

// reservedPaths are the operations endpoints publish routes share a server
// with.
var reservedPaths = []string{"/metrics", "/healthz", "/readyz", "/pipelines"}

// publish reads the top-level publish list.
func (l *loader) publish(n *config.Node) []*PublishRoute {
	if n == nil {
		return nil
	}
	items := n.List()
	var out []*PublishRoute
	seen := map[string]bool{}
	for _, item := range items {
		m := item.Map()
		if m == nil {
			continue
		}
		r := l.publishRoute(item, m)
		if r.Path != "" {
			if seen[r.Path] {
				item.Errorf("publish path %s is declared twice", r.Path)
			}
			seen[r.Path] = true
		}
		out = append(out, r)
	}
	return out
}

func (l *loader) publishRoute(item *config.Node, m *config.Map) *PublishRoute {
	r := &PublishRoute{Pos: item.Pos(), MaxBodyBytes: DefaultPublishMaxBody, Timeout: DefaultPublishTimeout}
	if v := m.Need("path"); v != nil {
		r.Path = v.String()
		if err := checkPublishPath(r.Path); err != nil {
			v.Errorf("%v", err)
		}
	}
	if v := m.Need("topic"); v != nil {
		if r.Topic = v.String(); r.Topic == "" {
			v.Errorf("topic is empty")
		}
	}
	if v := m.Need("schema"); v != nil {
		r.SchemaPath, r.Schema = l.schemaAt(v)
		if _, ok := r.Schema.(*avro.RecordSchema); r.Schema != nil && !ok {
			v.Errorf("schema %s is a %s: a publish route takes records (JSON objects)", r.SchemaPath, r.Schema.Type())
		}
	}
	if v := m.Get("key_field"); v != nil {
		r.KeyField = v.String()
		if rec, ok := r.Schema.(*avro.RecordSchema); ok && !hasField(rec, r.KeyField) {
			v.Errorf("key_field %q is not a field of %s", r.KeyField, rec.FullName())
		}
	}
	if a := m.Get("auth"); a != nil {
		if am := a.Map(); am != nil {
			if am.HasSecret("bearer_token") {
				r.BearerToken = l.secret(am, "bearer_token")
			} else {
				a.Errorf("auth needs bearer_token or bearer_token_file")
			}
			am.Done()
		}
	}
	if v := m.Get("max_body_bytes"); v != nil {
		r.MaxBodyBytes = int64(l.int(v))
		if r.MaxBodyBytes < 1 || r.MaxBodyBytes > MaxPublishMaxBody {
			v.Errorf("max_body_bytes must be between 1 and %d", MaxPublishMaxBody)
		}
	}
	if v := m.Get("timeout"); v != nil {
		if r.Timeout = l.duration(v, r.Timeout); r.Timeout <= 0 {
			v.Errorf("timeout must be longer than 0")
		}
	}
	m.Done()
	return r
}

// checkPublishPath accepts an absolute URL path without wildcards that is
// not an operations endpoint.
func checkPublishPath(p string) error {
	switch {
	case !strings.HasPrefix(p, "/") || p == "/":
		return fmt.Errorf("path %q must start with / and name a route, like /publish/user-events", p)
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("path %q must not end with /", p)
	case strings.ContainsAny(p, "{}?# \t"):
		return fmt.Errorf("path %q must be a plain path (no {wildcards}, query, fragment or spaces)", p)
	}
	for _, r := range reservedPaths {
		if p == r || strings.HasPrefix(p, r+"/") {
			return fmt.Errorf("path %s is taken by the operations endpoints (%s)", p, strings.Join(reservedPaths, ", "))
		}
	}
	return nil
}

func hasField(rec *avro.RecordSchema, name string) bool {
	for _, f := range rec.Fields() {
		if f.Name() == name {
			return true
		}
	}
	return false
}
