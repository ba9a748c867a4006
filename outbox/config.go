package outbox

import (
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"time"

	"github.com/hamba/avro/v2"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/processors/config"
)

// Defaults of the optional settings of `outbox:`.
const (
	DefaultTable        = "outbox_event"
	DefaultBatchSize    = 200
	DefaultPollInterval = time.Second
	DefaultChannel      = "outbox_event"
	// MaxBatchSize bounds batch_size: each batch holds an advisory lock per
	// aggregate, and PostgreSQL's shared lock table is small
	// (max_locks_per_transaction × max_connections, 6,400 by default).
	MaxBatchSize = 2000
)

// After says what a relay does with a row the broker acknowledged.
type After string

const (
	// Delete removes the row (the default).
	Delete After = "delete"
	// Mark sets the Published column to now(); rows whose column is set are
	// not pending.
	Mark After = "mark"
)

// Columns name the columns of the outbox table.
type Columns struct {
	ID, AggregateID, EventType, Payload, CreatedAt string
	// Published is the timestamp column `after: mark` sets.
	Published string
}

// Event says where rows of one event type go.
type Event struct {
	Topic string
	// Codec is avro (Schema set) or json (the payload as stored).
	Codec      string
	SchemaFile string
	Schema     avro.Schema
}

// Config is the `outbox:` section of pipelines.yaml.
type Config struct {
	Pos config.Pos
	// DSN is the PostgreSQL connection string, a secret (dsn or dsn_file).
	// Empty in the file is allowed (validate works without secrets); the
	// relay needs one.
	DSN          string
	Table        string
	Columns      Columns
	BatchSize    int
	PollInterval time.Duration
	// Channel is the LISTEN channel that wakes the relay; "" turns LISTEN off.
	Channel string
	After   After
	// DeadLetter is the topic of poison rows (default <table>-dlq).
	DeadLetter string
	Events     map[string]*Event
}

// EventTypes returns the mapped event types, sorted.
func (c *Config) EventTypes() []string {
	out := make([]string, 0, len(c.Events))
	for k := range c.Events {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// String describes c without the DSN, which may hold a password.
func (c *Config) String() string {
	return fmt.Sprintf("{Table:%s After:%s Events:%v DeadLetter:%s}", c.Table, c.After, c.EventTypes(), c.DeadLetter)
}

// identifier matches the table and column names the relay accepts: plain or
// schema-qualified SQL identifiers, so that they can be put in statements.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

var column = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Parse reads the `outbox:` node n of the file in dir; schemas parses the
// Avro files. Problems are reported on the nodes; it does no I/O beyond
// reading the schema and dsn_file files.
func Parse(n *config.Node, dir string, schemas *codecs.Schemas) *Config {
	c := &Config{
		Pos:          n.Pos(),
		Table:        DefaultTable,
		BatchSize:    DefaultBatchSize,
		PollInterval: DefaultPollInterval,
		Channel:      DefaultChannel,
		After:        Delete,
		Columns: Columns{ID: "id", AggregateID: "aggregate_id", EventType: "event_type", Payload: "payload",
			CreatedAt: "created_at", Published: "published_at"},
		Events: map[string]*Event{},
	}
	m := n.Map()
	if m == nil {
		return c
	}
	c.DSN = m.Secret("dsn")
	if v := m.Get("table"); v != nil {
		if c.Table = v.String(); !identifier.MatchString(c.Table) {
			v.Errorf("table %q is not a plain SQL identifier (schema.table allowed)", c.Table)
		}
	}
	if v := m.Get("columns"); v != nil {
		if cm := v.Map(); cm != nil {
			for _, col := range []struct {
				key string
				dst *string
			}{{"id", &c.Columns.ID}, {"aggregate_id", &c.Columns.AggregateID}, {"event_type", &c.Columns.EventType},
				{"payload", &c.Columns.Payload}, {"created_at", &c.Columns.CreatedAt}, {"published_at", &c.Columns.Published}} {
				if cv := cm.Get(col.key); cv != nil {
					if *col.dst = cv.String(); !column.MatchString(*col.dst) {
						cv.Errorf("column %q is not a plain SQL identifier", *col.dst)
					}
				}
			}
			cm.Done()
		}
	}
	if v := m.Get("batch_size"); v != nil {
		if c.BatchSize = v.Int(); c.BatchSize < 1 || c.BatchSize > MaxBatchSize {
			v.Errorf("batch_size must be between 1 and %d", MaxBatchSize)
			c.BatchSize = DefaultBatchSize
		}
	}
	if v := m.Get("poll_interval"); v != nil {
		if c.PollInterval = v.Duration(); c.PollInterval < 10*time.Millisecond {
			v.Errorf("poll_interval must be at least 10ms")
			c.PollInterval = DefaultPollInterval
		}
	}
	if v := m.Get("notify_channel"); v != nil {
		if c.Channel = v.String(); c.Channel != "" && !column.MatchString(c.Channel) {
			v.Errorf("notify_channel %q is not a plain SQL identifier (empty turns LISTEN off)", c.Channel)
		}
	}
	if v := m.Get("after"); v != nil {
		switch c.After = After(v.String()); c.After {
		case Delete, Mark:
		default:
			v.Errorf("after must be delete or mark, not %q", c.After)
		}
	}
	c.DeadLetter = m.StringOr("dead_letter", c.Table+"-dlq")
	if c.DeadLetter == "" {
		m.Get("dead_letter").Errorf("dead_letter must name a topic: poison rows go there")
	}
	if v := m.Need("events"); v != nil {
		if em := v.Map(); em != nil {
			for _, e := range em.Entries() {
				c.Events[e.Key] = parseEvent(e.Value, dir, schemas)
			}
			if len(c.Events) == 0 {
				v.Errorf("events maps no event type")
			}
			em.Done()
		}
	}
	m.Done()
	return c
}

func parseEvent(n *config.Node, dir string, schemas *codecs.Schemas) *Event {
	e := &Event{Codec: "json"}
	m := n.Map()
	if m == nil {
		return e
	}
	if v := m.Need("topic"); v != nil {
		if e.Topic = v.String(); e.Topic == "" {
			v.Errorf("topic is empty")
		}
	}
	codec, schema := m.Get("codec"), m.Get("schema")
	switch {
	case codec != nil && schema != nil && codec.String() != "avro":
		codec.Errorf("codec %s and schema exclude each other (a schema means avro)", codec.String())
	case schema != nil:
		e.Codec, e.SchemaFile = "avro", schema.String()
		path := e.SchemaFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		s, err := schemas.ParseFile(path)
		if err != nil {
			schema.Errorf("schema: %v", err)
		}
		e.Schema = s
	case codec != nil:
		switch e.Codec = codec.String(); e.Codec {
		case "json":
		case "avro":
			codec.Errorf("codec avro needs a schema")
		default:
			codec.Errorf("unknown codec %q (json, or a schema for avro)", e.Codec)
		}
	}
	m.Done()
	return e
}
