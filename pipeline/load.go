package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/bounded"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/tlsconf"
	"github.com/sluicehq/sluice/processors"
	"github.com/sluicehq/sluice/processors/config"
)

// Defaults of optional settings.
const (
	DefaultClientID       = "sluice"
	DefaultKafkaVersion   = "3.6.0"
	DefaultPartitions     = 6
	DefaultReplication    = 1
	DefaultSessionTimeout = 10 * time.Second
	// DefaultHeartbeat is short because the other members of a group learn
	// of a rebalance from their next heartbeat's answer: it bounds how long
	// a membership change waits for them.
	DefaultHeartbeat = 250 * time.Millisecond
)

// MaxConfigBytes bounds a pipelines file. A thousand pipelines like the
// reference ones take 800 kB. config.Parse bounds what the YAML holds (tokens,
// nesting, entries).
const MaxConfigBytes = 2 << 20

// DefaultRetry returns the retry policy of a pipeline that sets none.
func DefaultRetry() Retry {
	return Retry{Attempts: 5, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 10 * time.Second}
}

// DefaultBreaker returns the dead-letter breaker of a pipeline that sets none.
func DefaultBreaker() Breaker {
	return Breaker{Ratio: 0.5, MinMessages: 100, Window: 30 * time.Second}
}

// LoadOption changes how a configuration is loaded.
type LoadOption func(*loader)

// WithSteps uses reg to find step types (custom Go steps); without it the
// loader knows the built-in steps only.
func WithSteps(reg *processors.Registry) LoadOption {
	return func(l *loader) { l.stepTypes = reg }
}

// WithGetenv reads ${VAR} values from getenv instead of the process environment.
func WithGetenv(getenv func(string) string) LoadOption {
	return func(l *loader) { l.getenv = getenv }
}

// WithSchemas parses schemas into s (shared with the codecs at run time).
func WithSchemas(s *codecs.Schemas) LoadOption {
	return func(l *loader) { l.schemas = s }
}

type loader struct {
	file      string
	dir       string
	stepTypes *processors.Registry
	getenv    func(string) string
	schemas   *codecs.Schemas
	rep       *config.Reporter
	// sites are the nodes crossCheck reports problems at.
	sites map[*Pipeline]*pipelineSites
}

// Load reads, expands and checks a pipelines file. Every problem is reported
// at once as a config.Errors whose lines read "file:line:col: message".
func Load(path string, opts ...LoadOption) (*Config, error) {
	src, err := bounded.ReadFile(path, MaxConfigBytes)
	var refused *bounded.Error
	switch {
	case errors.As(err, &refused):
		return nil, &config.Error{Pos: config.Pos{File: path, Line: 1, Col: 1}, Msg: refused.Problem()}
	case err != nil:
		return nil, fmt.Errorf("reading pipelines: %w", err)
	}
	return Parse(path, src, opts...)
}

// Parse checks a pipelines document read from file (used in messages and to
// resolve relative schema paths); src has at most MaxConfigBytes.
func Parse(file string, src []byte, opts ...LoadOption) (*Config, error) {
	if len(src) > MaxConfigBytes {
		return nil, &config.Error{Pos: config.Pos{File: file, Line: 1, Col: 1}, Msg: "file too large (more than " + bounded.Size(MaxConfigBytes) + ")"}
	}
	l := &loader{
		file:   file,
		dir:    filepath.Dir(file),
		getenv: os.Getenv,
		rep:    &config.Reporter{},
		sites:  map[*Pipeline]*pipelineSites{},
	}
	for _, o := range opts {
		o(l)
	}
	if l.stepTypes == nil {
		l.stepTypes = processors.NewRegistry()
	}
	if l.schemas == nil {
		l.schemas = codecs.NewSchemas()
	}
	root, err := config.ParseFile(file, src, l.getenv, l.rep)
	if err != nil {
		return nil, err
	}
	cfg := l.config(root)
	if err := l.rep.Err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (l *loader) config(root *config.Node) *Config {
	cfg := &Config{File: l.file}
	m := root.Map()
	if m == nil {
		return cfg
	}
	if n := m.Need("version"); n != nil {
		if cfg.Version = l.int(n); cfg.Version != 1 {
			n.Errorf("unsupported version %d (this sluice reads version 1)", cfg.Version)
		}
	}
	cfg.Kafka = l.kafka(m.Get("kafka"))
	cfg.Registry = l.registry(m.Get("registry"))
	cfg.Outbox = l.outbox(m.Get("outbox"))
	retry := DefaultRetry()
	if d := m.Get("defaults"); d != nil {
		if dm := d.Map(); dm != nil {
			retry = l.retry(dm.Get("retry"), retry)
			dm.Done()
		}
	}
	if n := m.Need("pipelines"); n != nil {
		cfg.Pipelines = l.pipelines(n, retry)
	}
	cfg.Publish = l.publish(m.Get("publish"))
	m.Done()
	l.crossCheck(cfg)
	return cfg
}

func (l *loader) kafka(n *config.Node) Kafka {
	k := Kafka{
		ClientID:       DefaultClientID,
		Version:        DefaultKafkaVersion,
		Partitions:     DefaultPartitions,
		Replication:    DefaultReplication,
		Partitioner:    PartitionerMurmur2,
		SessionTimeout: DefaultSessionTimeout,
		Heartbeat:      DefaultHeartbeat,
	}
	if n == nil {
		return k
	}
	m := n.Map()
	if m == nil {
		return k
	}
	if b := m.Get("brokers"); b != nil {
		k.Brokers = brokerList(b)
	}
	k.ClientID = m.StringOr("client_id", k.ClientID)
	if v := m.Get("version"); v != nil {
		k.Version = v.String()
		if _, err := parseKafkaVersion(k.Version); err != nil {
			v.Errorf("%v", err)
		}
	}
	if v := m.Get("partitions"); v != nil {
		if k.Partitions = l.int(v); k.Partitions < 1 {
			v.Errorf("partitions must be at least 1")
		}
	}
	if v := m.Get("replication"); v != nil {
		if k.Replication = l.int(v); k.Replication < 1 {
			v.Errorf("replication must be at least 1")
		}
	}
	if v := m.Get("partitioner"); v != nil {
		k.Partitioner = v.String()
		switch k.Partitioner {
		case PartitionerMurmur2, PartitionerFNV1a, PartitionerCRC32:
		default:
			v.Errorf("unknown partitioner %q (murmur2, fnv1a or crc32)", k.Partitioner)
		}
	}
	if v := m.Get("session_timeout"); v != nil {
		if k.SessionTimeout = l.duration(v, k.SessionTimeout); k.SessionTimeout < 6*time.Second {
			v.Errorf("session_timeout must be at least 6s (brokers refuse shorter sessions: group.min.session.timeout.ms, 6s by default)")
		}
	}
	if v := m.Get("heartbeat"); v != nil {
		k.Heartbeat = l.duration(v, k.Heartbeat)
		if k.Heartbeat <= 0 || k.Heartbeat >= k.SessionTimeout {
			v.Errorf("heartbeat must be positive and shorter than session_timeout")
		}
	}
	k.TLS = tlsconf.Load(m.Get("tls"))
	k.SASL = kafkaconn.LoadSASL(m.Get("sasl"))
	m.Done()
	return k
}

// brokerList accepts a list or a comma-separated string, and reports an
// address that is not host:port at its item.
func brokerList(n *config.Node) []string {
	items := []*config.Node{n}
	if n.IsList() {
		items = n.List()
	}
	var out []string
	for _, item := range items {
		addrs := config.SplitList(item.String())
		if err := CheckBrokers(addrs); err != nil {
			item.Errorf("%v", err)
		}
		out = append(out, addrs...)
	}
	return out
}

func (l *loader) retry(n *config.Node, base Retry) Retry {
	if n == nil {
		return base
	}
	m := n.Map()
	if m == nil {
		return base
	}
	r := base
	if v := m.Get("attempts"); v != nil {
		if r.Attempts = l.int(v); r.Attempts < 1 {
			v.Errorf("attempts must be at least 1")
		}
	}
	// The order of the backoffs is checked only where one is set (and
	// reported there), so that a bad pipeline policy is not reported again
	// on every step that inherits it.
	var set *config.Node
	if v := m.Get("initial_backoff"); v != nil {
		r.InitialBackoff, set = l.duration(v, r.InitialBackoff), v
		if r.InitialBackoff <= 0 {
			v.Errorf("initial_backoff must be longer than 0 (a retry or a wait for the registry would spin)")
		}
	}
	if v := m.Get("max_backoff"); v != nil {
		r.MaxBackoff, set = l.duration(v, r.MaxBackoff), v
	}
	if set != nil && r.MaxBackoff < r.InitialBackoff {
		set.Errorf("max_backoff (%s) is shorter than initial_backoff (%s)", r.MaxBackoff, r.InitialBackoff)
	}
	m.Done()
	return r
}

// int reads an integer; an unreadable one reads as 1 so that range checks
// after it do not report the same value twice.
func (l *loader) int(n *config.Node) int {
	before := l.rep.Len()
	if i := n.Int(); l.rep.Len() == before {
		return i
	}
	return 1
}

// duration reads a duration; an unreadable one keeps def so that range
// checks after it do not report the same value twice.
func (l *loader) duration(n *config.Node, def time.Duration) time.Duration {
	before := l.rep.Len()
	if d := n.Duration(); l.rep.Len() == before {
		return d
	}
	return def
}

// schemaFile parses an Avro schema file named relative to the configuration.
func (l *loader) schemaFile(path string) (avro.Schema, error) {
	_, full, err := l.schemaPath(path)
	if err != nil {
		return nil, err
	}
	return l.schemas.ParseFile(full)
}

// schemaPath resolves a schema file named relative to the configuration and
// checks that it exists.
func (l *loader) schemaPath(path string) (string, string, error) {
	if path == "" {
		return path, "", fmt.Errorf("empty schema path")
	}
	full := path
	if !filepath.IsAbs(full) {
		full = filepath.Join(l.dir, path)
	}
	if _, err := os.Stat(full); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return path, "", fmt.Errorf("schema file %s does not exist (looked for %s: paths are relative to the pipelines file)", path, full)
		}
		return path, "", fmt.Errorf("schema file %s: %w", path, err)
	}
	return path, full, nil
}

func (l *loader) schemaAt(n *config.Node) (string, avro.Schema) {
	path := n.String()
	s, err := l.schemaFile(path)
	if err != nil {
		n.Errorf("%v", err)
		return path, nil
	}
	return path, s
}
