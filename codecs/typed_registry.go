package codecs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/sluicehq/sluice/registry/regclient"
)

// TypedRegistry is what the JSONSchema and Protobuf codecs ask of a schema
// registry: schemas by id, and registering or looking up a schema of a
// given type (regclient.TypeJSON, regclient.TypeProtobuf).
// *regclient.Client implements it. Failures are classified as for Registry.
type TypedRegistry interface {
	// SchemaByID returns the schema registered under id.
	SchemaByID(ctx context.Context, id int) (regclient.Schema, error)
	// SchemaByVersion returns a version of a subject: how a writer
	// schema's references are fetched.
	SchemaByVersion(ctx context.Context, subject string, version int) (regclient.Schema, error)
	// RegisterAs registers schema of schemaType under subject and returns its id.
	RegisterAs(ctx context.Context, subject, schemaType, schema string) (int, error)
	// LookupAs returns the id and version of schema of schemaType under subject.
	LookupAs(ctx context.Context, subject, schemaType, schema string) (id, version int, err error)
}

var _ TypedRegistry = (*regclient.Client)(nil)

// writerSchemas maps writer schema ids to what parse makes of the
// registry's schema (a compiled JSON Schema, a compiled .proto file) and its
// references (name -> text, transitively, see fetchReferences). Each
// id is fetched once however many goroutines ask at the same time; poison
// answers (an unknown id, a schema of another type, one that does not
// parse) are remembered for negTTL, transient failures not at all.
type writerSchemas[T any] struct {
	client     TypedRegistry
	schemaType string
	parse      func(text string, refs map[string]string) (T, error)
	negTTL     time.Duration
	now        func() time.Time
	stats      Stats

	known   sync.Map // int -> T
	poisons poisonMemo
	flight  singleflight.Group
}

func (c *writerSchemas[T]) get(ctx context.Context, id int) (T, error) {
	var zero T
	if v, ok := c.known.Load(id); ok {
		c.stats.SchemaCacheLookup(true)
		return v.(T), nil
	}
	if err := c.poisons.fresh(id, c.now()); err != nil {
		c.stats.SchemaCacheLookup(true)
		return zero, err
	}
	c.stats.SchemaCacheLookup(false)
	ch := c.flight.DoChan(strconv.Itoa(id), func() (any, error) {
		if v, ok := c.known.Load(id); ok {
			return v, nil
		}
		v, err := c.fetch(ctx, id)
		if err != nil {
			if errors.Is(err, ErrPoison) && c.negTTL > 0 {
				c.poisons.remember(id, err, c.now(), c.negTTL)
			}
			return nil, err
		}
		c.known.Store(id, v)
		return v, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return zero, res.Err
		}
		return res.Val.(T), nil
	case <-ctx.Done():
		return zero, unavailable("decode", id, fmt.Errorf("fetching writer schema: %w", ctx.Err()))
	}
}

func (c *writerSchemas[T]) fetch(ctx context.Context, id int) (T, error) {
	var zero T
	s, err := c.client.SchemaByID(ctx, id)
	c.stats.RegistryRequest(registryResult(err))
	if err != nil {
		return zero, registryError("decode", id, fmt.Errorf("fetching writer schema: %w", err))
	}
	if s.Type != c.schemaType {
		typ := s.Type
		if typ == "" {
			typ = regclient.TypeAvro
		}
		return zero, poison("decode", id, fmt.Errorf("writer schema is %s, not %s", typ, c.schemaType))
	}
	refs, err := c.fetchReferences(ctx, id, s.References)
	if err != nil {
		return zero, err
	}
	v, err := c.parse(s.Text, refs)
	if err != nil {
		return zero, poison("decode", id, fmt.Errorf("parsing writer schema: %w", err))
	}
	return v, nil
}

// Bounds of a writer schema's references: a registry answer must not make
// the codec fetch without end.
const (
	maxReferences     = 256
	maxReferenceDepth = 16
)

// fetchReferences fetches the schemas refs name, and theirs, into a map
// from each reference's name to its text (nil without references).
func (c *writerSchemas[T]) fetchReferences(ctx context.Context, id int, refs []regclient.Reference) (map[string]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	var walk func(refs []regclient.Reference, depth int) error
	walk = func(refs []regclient.Reference, depth int) error {
		if depth > maxReferenceDepth {
			return poison("decode", id, fmt.Errorf("references nested more than %d deep", maxReferenceDepth))
		}
		for _, r := range refs {
			if _, seen := out[r.Name]; seen {
				continue
			}
			if len(out) >= maxReferences {
				return poison("decode", id, fmt.Errorf("more than %d references", maxReferences))
			}
			s, err := c.client.SchemaByVersion(ctx, r.Subject, r.Version)
			c.stats.RegistryRequest(registryResult(err))
			if err != nil {
				return registryError("decode", id, fmt.Errorf("fetching reference %s (%s version %d): %w", r.Name, r.Subject, r.Version, err))
			}
			out[r.Name] = s.Text
			if err := walk(s.References, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(refs, 1); err != nil {
		return nil, err
	}
	return out, nil
}

// registration registers (or looks up) an output schema once and caches its id.
type registration struct {
	client     TypedRegistry
	subject    string
	schemaType string
	text       string
	lookup     bool
	stats      Stats

	mu sync.Mutex   // serialises register
	id atomic.Int64 // 0 until known
}

func (r *registration) register(ctx context.Context) (int, error) {
	if id := r.id.Load(); id != 0 {
		return int(id), nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if id := r.id.Load(); id != 0 {
		return int(id), nil
	}
	if r.subject == "" {
		return 0, poison("encode", 0, errors.New("no subject configured (WithSubject)"))
	}
	var id int
	var err error
	verb := "registering"
	if r.lookup {
		verb = "looking up"
		id, _, err = r.client.LookupAs(ctx, r.subject, r.schemaType, r.text)
	} else {
		id, err = r.client.RegisterAs(ctx, r.subject, r.schemaType, r.text)
	}
	r.stats.RegistryRequest(registryResult(err))
	if err != nil {
		return 0, registryError("encode", 0, fmt.Errorf("%s %s schema under subject %s: %w", verb, r.schemaType, r.subject, err))
	}
	r.id.Store(int64(id))
	return id, nil
}

// encodeID returns the registered id, registering first when needed.
func (r *registration) encodeID(ctx context.Context) (int, error) {
	id := int(r.id.Load())
	r.stats.SchemaCacheLookup(id != 0)
	if id != 0 {
		return id, nil
	}
	return r.register(ctx)
}

// checkFrame reads a frame's header: its schema id, or the poison error of
// a frame that is nil, too short, has another magic byte or an invalid id.
func checkFrame(frame []byte) (int, error) {
	if frame == nil {
		return 0, poison("decode", 0, errors.New("null value"))
	}
	id, ok := FrameSchemaID(frame)
	if !ok {
		if len(frame) < headerSize {
			return 0, poison("decode", 0, fmt.Errorf("frame of %d bytes is shorter than the 5-byte header", len(frame)))
		}
		return 0, poison("decode", 0, fmt.Errorf("magic byte %d, want 0", frame[0]))
	}
	if id < 1 {
		return 0, poison("decode", id, fmt.Errorf("schema id %d is not a valid registry id", id))
	}
	return id, nil
}
