// Package contest holds the hand-written contestants the benchmark harness
// (bench/) runs beside sluice on the same data: the user-stats pipeline (W1)
// written by hand on goka + sarama + hamba/avro with its state in a LevelDB
// goka table, the same pipeline on plain franz-go with its state in memory,
// and a raw franz-go consume -> produce pipe that decodes nothing.
//
// They are what a team would write without sluice, and share nothing with
// sluice's runtime: they frame and resolve Avro with hamba/avro and talk to
// the schema registry over plain HTTP. The harness runs each in a child
// process of its own, so that the CPU and memory it reports are the
// contestant's alone.
package contest

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hamba/avro/v2"
)

// Config says where a contestant reads, writes and keeps its state.
type Config struct {
	Brokers     []string
	RegistryURL string
	Input       string // the user-topic to read
	Output      string // where the stats (or piped records) go
	DeadLetter  string // where undecodable and invalid events go
	Group       string // the consumer group (and goka's table)
	StateDir    string // LevelDB folder of the goka contestant
	// StatsSchema and EventSchema are the texts of user_stats.avsc and
	// user_event.avsc (the reader).
	StatsSchema string
	EventSchema string
}

// UserEvent is a user-topic value in the reader (v2) schema.
type UserEvent struct {
	UserID    string  `avro:"user_id"`
	EventType string  `avro:"event_type"`
	Amount    float64 `avro:"amount"`
	TS        int64   `avro:"ts"`
	Country   *string `avro:"country"`
}

// UserStats is a user's running totals: the state and the output.
type UserStats struct {
	UserID        string  `avro:"user_id"`
	Events        int64   `avro:"events"`
	Purchases     int64   `avro:"purchases"`
	TotalSpent    float64 `avro:"total_spent"`
	LastEventType string  `avro:"last_event_type"`
	LastCountry   *string `avro:"last_country"`
	LastTS        int64   `avro:"last_ts"`
}

// errInvalid marks an event user-stats dead-letters: a negative amount.
var errInvalid = errors.New("amount must not be negative")

// Fold applies event e of key to s (nil for a new key) as the reference
// user-stats pipeline does. It returns the new state, or nil and no error
// for a filtered heartbeat, or errInvalid.
func Fold(key string, s *UserStats, e *UserEvent) (*UserStats, error) {
	if e.EventType == "heartbeat" {
		return nil, nil
	}
	if e.Amount < 0 {
		return nil, errInvalid
	}
	if s == nil {
		s = &UserStats{}
	}
	s.UserID = key
	s.Events++
	if e.EventType == "purchase" {
		s.Purchases++
		s.TotalSpent += e.Amount
	}
	s.LastEventType = e.EventType
	if e.Country != nil {
		s.LastCountry = e.Country
	}
	s.LastTS = e.TS
	return s, nil
}

// Codec decodes Confluent-framed UserEvents written with any registered
// schema into the reader schema, and frames UserStats with the id of the
// stats schema registered for the output topic.
type Codec struct {
	reg     registry
	reader  avro.Schema
	stats   avro.Schema
	statsID uint32

	mu       sync.Mutex
	resolved map[uint32]avro.Schema // writer id -> reader resolved from it
	cache    *avro.SchemaCache      // this codec's, not hamba's global one
}

// NewCodec parses the schemas and registers the stats schema under
// "<output>-value" (the topic name strategy).
func NewCodec(ctx context.Context, cfg Config) (*Codec, error) {
	cache := &avro.SchemaCache{}
	reader, err := avro.ParseWithCache(cfg.EventSchema, "", cache)
	if err != nil {
		return nil, fmt.Errorf("parsing the event schema: %w", err)
	}
	stats, err := avro.ParseWithCache(cfg.StatsSchema, "", cache)
	if err != nil {
		return nil, fmt.Errorf("parsing the stats schema: %w", err)
	}
	c := &Codec{reg: registry{url: strings.TrimSuffix(cfg.RegistryURL, "/"), client: &http.Client{Timeout: 10 * time.Second}}, reader: reader, stats: stats, resolved: map[uint32]avro.Schema{}, cache: cache}
	if cfg.Output != "" {
		id, err := c.reg.register(ctx, cfg.Output+"-value", cfg.StatsSchema)
		if err != nil {
			return nil, err
		}
		c.statsID = id
	}
	return c, nil
}

// StatsSchema is the schema of the state and the output.
func (c *Codec) StatsSchema() avro.Schema { return c.stats }

// IsPoison reports whether a Decode error says the message itself is bad
// (to dead-letter), rather than the registry being unreachable.
func IsPoison(err error) bool { return errors.Is(err, errUnknownSchema) || errors.Is(err, errBadFrame) }

// errBadFrame marks a value that is not a decodable UserEvent.
var errBadFrame = errors.New("not a UserEvent frame")

// Decode decodes a framed UserEvent.
func (c *Codec) Decode(ctx context.Context, frame []byte) (*UserEvent, error) {
	if len(frame) < 5 || frame[0] != 0 {
		return nil, fmt.Errorf("%w: no Confluent header", errBadFrame)
	}
	id := binary.BigEndian.Uint32(frame[1:5])
	s, err := c.readerFor(ctx, id)
	if err != nil {
		return nil, err
	}
	var e UserEvent
	if err := avro.Unmarshal(s, frame[5:], &e); err != nil {
		return nil, fmt.Errorf("%w: schema %d: %w", errBadFrame, id, err)
	}
	return &e, nil
}

// readerFor returns the reader schema resolved against writer schema id.
func (c *Codec) readerFor(ctx context.Context, id uint32) (avro.Schema, error) {
	c.mu.Lock()
	s, ok := c.resolved[id]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	text, err := c.reg.schema(ctx, id)
	if err != nil {
		return nil, err
	}
	writer, err := avro.ParseWithCache(text, "", c.cache)
	if err != nil {
		return nil, fmt.Errorf("parsing writer schema %d: %w", id, err)
	}
	s, err = avro.NewSchemaCompatibility().Resolve(c.reader, writer)
	if err != nil {
		return nil, fmt.Errorf("resolving writer schema %d: %w", id, err)
	}
	c.mu.Lock()
	c.resolved[id] = s
	c.mu.Unlock()
	return s, nil
}

// EncodeStats frames s for the output topic.
func (c *Codec) EncodeStats(s *UserStats) ([]byte, error) {
	payload, err := avro.Marshal(c.stats, s)
	if err != nil {
		return nil, fmt.Errorf("encoding stats: %w", err)
	}
	out := make([]byte, 5, 5+len(payload))
	binary.BigEndian.PutUint32(out[1:], c.statsID)
	return append(out, payload...), nil
}

// errUnknownSchema is the registry's answer for an id it does not know.
var errUnknownSchema = errors.New("unknown schema id")

// registry is the little of the Confluent registry API the contestants use.
type registry struct {
	url    string
	client *http.Client
}

func (r registry) schema(ctx context.Context, id uint32) (string, error) {
	var out struct {
		Schema string `json:"schema"`
	}
	err := r.do(ctx, http.MethodGet, fmt.Sprintf("/schemas/ids/%d", id), nil, &out)
	var re *registryError
	if errors.As(err, &re) && re.Code == 40403 { // the registry's own "schema not found"
		return "", fmt.Errorf("schema %d: %w", id, errUnknownSchema)
	}
	if err != nil {
		return "", fmt.Errorf("fetching schema %d: %w", id, err)
	}
	return out.Schema, nil
}

func (r registry) register(ctx context.Context, subject, schema string) (uint32, error) {
	body, err := json.Marshal(map[string]string{"schema": schema})
	if err != nil {
		return 0, err
	}
	var out struct {
		ID uint32 `json:"id"`
	}
	if err := r.do(ctx, http.MethodPost, "/subjects/"+subject+"/versions", body, &out); err != nil {
		return 0, fmt.Errorf("registering %s: %w", subject, err)
	}
	return out.ID, nil
}

// registryError is a registry's error answer.
type registryError struct {
	Status  string
	Code    int    `json:"error_code"`
	Message string `json:"message"`
}

func (e *registryError) Error() string {
	return fmt.Sprintf("%s: error %d: %s", e.Status, e.Code, e.Message)
}

func (r registry) do(ctx context.Context, method, path string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/vnd.schemaregistry.v1+json")
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		re := &registryError{Status: resp.Status}
		if json.Unmarshal(b, re) != nil {
			re.Message = string(b)
		}
		return fmt.Errorf("%s %s: %w", method, path, re)
	}
	return json.Unmarshal(b, out)
}
