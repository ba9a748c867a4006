package codecs

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/riferrei/srclient"
	"golang.org/x/sync/singleflight"
)

// resolved is what a writer schema id turns into: the writer schema resolved to the reader
// schema (the schema hamba decodes with), the normaliser of its decoded values, and a hamba
// API of its own.
//
// Why an API per resolution: hamba caches decoders by the resolved schema's
// CacheFingerprint, which does not cover which writer fields are skipped. Resolving writer
// v2 to reader v1 (country skipped) and to reader v2 (country read) gives the same
// fingerprint, so a shared API hands the v2 reader the v1 decoder and country comes out
// nil. The API also carries the union branch names prepare registers.
type resolved struct {
	schema  avro.Schema
	norm    normFn
	record  bool // the reader is a record: decode straight into map[string]any
	readers sync.Pool
}

// maxSliceAlloc bounds the element count a corrupt payload can make the decoder allocate.
const maxSliceAlloc = 1 << 20

func newResolved(reader, res avro.Schema) *resolved {
	api := avro.Config{MaxSliceAllocSize: maxSliceAlloc}.Freeze()
	r := &resolved{
		schema: res,
		norm:   prepare(api, res),
		record: derefSchema(reader).Type() == avro.Record,
	}
	r.readers.New = func() any { return avro.NewReader(nil, 0, avro.WithReaderConfig(api)) }
	return r
}

// negative is a cached poison answer for an id, kept only until expires.
type negative struct {
	err     error
	expires time.Time
}

// writerCache maps writer schema ids to resolved schemas. Lookups are lock-free; a miss
// fetches the id from the registry exactly once however many goroutines ask at the same time
// (singleflight, re-checking the cache inside the flight). Poison answers (unknown id,
// unparsable or unresolvable writer) are remembered for negTTL only; transient failures are
// not remembered at all.
type writerCache struct {
	client  srclient.ISchemaRegistryClient
	schemas *Schemas
	reader  avro.Schema
	negTTL  time.Duration
	now     func() time.Time

	entries   sync.Map // int -> *resolved | *negative
	negatives atomic.Int64
	flight    singleflight.Group
}

// maxNegatives bounds the remembered poison answers: a stream of garbage frames carries
// random ids, and remembering each of them would grow without limit.
const maxNegatives = 1024

func (c *writerCache) get(id int) (*resolved, error) {
	if r, err, ok := c.cached(id); ok {
		return r, err
	}
	v, err, _ := c.flight.Do(strconv.Itoa(id), func() (any, error) {
		if r, err, ok := c.cached(id); ok {
			return r, err
		}
		r, err := c.fetch(id)
		if err != nil {
			if errors.Is(err, ErrPoison) && c.negTTL > 0 {
				c.remember(id, err)
			}
			return nil, err
		}
		c.entries.Store(id, r)
		return r, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*resolved), nil
}

// remember stores a poison answer for id, first sweeping expired ones when at the limit.
func (c *writerCache) remember(id int, err error) {
	if c.negatives.Load() >= maxNegatives {
		now := c.now()
		c.entries.Range(func(k, v any) bool {
			if n, ok := v.(*negative); ok && !now.Before(n.expires) && c.entries.CompareAndDelete(k, v) {
				c.negatives.Add(-1)
			}
			return true
		})
		if c.negatives.Load() >= maxNegatives {
			return
		}
	}
	if _, loaded := c.entries.Swap(id, &negative{err: err, expires: c.now().Add(c.negTTL)}); !loaded {
		c.negatives.Add(1)
	}
}

func (c *writerCache) cached(id int) (*resolved, error, bool) {
	v, ok := c.entries.Load(id)
	if !ok {
		return nil, nil, false
	}
	switch e := v.(type) {
	case *resolved:
		return e, nil, true
	case *negative:
		if c.now().Before(e.expires) {
			return nil, e.err, true
		}
		if c.entries.CompareAndDelete(id, v) {
			c.negatives.Add(-1)
		}
	}
	return nil, nil, false
}

func (c *writerCache) fetch(id int) (*resolved, error) {
	s, err := c.client.GetSchema(id)
	if err != nil {
		return nil, registryError("decode", id, fmt.Errorf("fetching writer schema: %w", err))
	}
	if t := s.SchemaType(); t != nil && *t != srclient.Avro {
		return nil, poison("decode", id, fmt.Errorf("writer schema is %s, not AVRO", *t))
	}
	writer, err := c.schemas.parseIsolated(s.Schema())
	if err != nil {
		return nil, poison("decode", id, err)
	}
	// A fresh checker every time: a shared or reused one has given wrong answers.
	res, err := avro.NewSchemaCompatibility().Resolve(c.reader, writer)
	if err != nil {
		return nil, poison("decode", id, fmt.Errorf("writer schema cannot be read as %s: %w", schemaName(c.reader), err))
	}
	return newResolved(c.reader, res), nil
}

func derefSchema(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}
