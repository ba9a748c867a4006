package codecs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hamba/avro/v2"
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
	schema avro.Schema
	norm   normFn
	record bool // the reader is a record: decode straight into map[string]any
	// read decodes without hamba's decoder when compileRead (the writer
	// schema is the reader schema) or compileResolve reads all of it.
	read    readFn
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

// writerCache maps writer schema ids to resolved schemas. Hits are lock-free and
// allocation-free (a copy-on-write map behind an atomic pointer: ids are few and added
// rarely). A miss fetches the id from the registry exactly once however many goroutines ask
// at the same time (singleflight, re-checking the cache inside the flight). Poison answers
// (unknown id, unparsable or unresolvable writer) are remembered for negTTL only, in a
// bounded map of their own; transient failures are not remembered at all.
//
// The fetch runs with the context of the caller that started it; a caller whose own context
// ends stops waiting for it (a transient error), and the callers that share a fetch whose
// starter was cancelled get that transient error and ask again.
type writerCache struct {
	client  Registry
	schemas *Schemas
	reader  avro.Schema
	negTTL  time.Duration
	now     func() time.Time
	stats   Stats

	mu       sync.Mutex                        // serialises updates of resolved
	resolved atomic.Pointer[map[int]*resolved] // read without locking
	poisons  poisonMemo
	flight   singleflight.Group
}

// maxNegatives bounds the remembered poison answers: a stream of garbage frames carries
// random ids, and remembering each of them would grow without limit.
const maxNegatives = 1024

func (c *writerCache) get(ctx context.Context, id int) (*resolved, error) {
	if m := c.resolved.Load(); m != nil {
		if r, ok := (*m)[id]; ok {
			c.stats.SchemaCacheLookup(true)
			return r, nil
		}
	}
	if err := c.poisons.fresh(id, c.now()); err != nil {
		c.stats.SchemaCacheLookup(true)
		return nil, err
	}
	c.stats.SchemaCacheLookup(false)
	ch := c.flight.DoChan(strconv.Itoa(id), func() (any, error) {
		if m := c.resolved.Load(); m != nil {
			if r, ok := (*m)[id]; ok {
				return r, nil
			}
		}
		if err := c.poisons.fresh(id, c.now()); err != nil {
			return nil, err
		}
		r, err := c.fetch(ctx, id)
		if err != nil {
			if errors.Is(err, ErrPoison) && c.negTTL > 0 {
				c.poisons.remember(id, err, c.now(), c.negTTL)
			}
			return nil, err
		}
		c.store(id, r)
		return r, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*resolved), nil
	case <-ctx.Done():
		return nil, unavailable("decode", id, fmt.Errorf("fetching writer schema: %w", ctx.Err()))
	}
}

func (c *writerCache) store(id int, r *resolved) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := map[int]*resolved{id: r}
	if old := c.resolved.Load(); old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	c.resolved.Store(&next)
}

// poisonMemo remembers poison answers (an unknown id, a writer schema that
// does not parse or resolve) by writer schema id until they expire, so that
// a stream of poison frames does not ask the registry at every one. It is
// bounded: at the limit it sweeps expired answers, and remembers no more
// while none has expired.
type poisonMemo struct {
	mu sync.Mutex
	m  map[int]negative
}

// fresh returns the remembered poison answer for id, if it is still fresh.
func (p *poisonMemo) fresh(id int, now time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	n, ok := p.m[id]
	if !ok {
		return nil
	}
	if now.Before(n.expires) {
		return n.err
	}
	delete(p.m, id)
	return nil
}

// remember stores err for id until now+ttl.
func (p *poisonMemo) remember(id int, err error, now time.Time, ttl time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.m) >= maxNegatives {
		for k, n := range p.m {
			if !now.Before(n.expires) {
				delete(p.m, k)
			}
		}
		if len(p.m) >= maxNegatives {
			return
		}
	}
	if p.m == nil {
		p.m = map[int]negative{}
	}
	p.m[id] = negative{err: err, expires: now.Add(ttl)}
}

func (c *writerCache) fetch(ctx context.Context, id int) (*resolved, error) {
	s, err := c.client.SchemaByID(ctx, id)
	c.stats.RegistryRequest(registryResult(err))
	if err != nil {
		return nil, registryError("decode", id, fmt.Errorf("fetching writer schema: %w", err))
	}
	if s.Type != "" && s.Type != "AVRO" {
		return nil, poison("decode", id, fmt.Errorf("writer schema is %s, not AVRO", s.Type))
	}
	writer, err := c.schemas.parseIsolated(s.Text)
	if err != nil {
		return nil, poison("decode", id, err)
	}
	// A fresh checker every time: a shared or reused one has given wrong answers.
	res, err := avro.NewSchemaCompatibility().Resolve(c.reader, writer)
	if err != nil {
		return nil, poison("decode", id, fmt.Errorf("writer schema cannot be read as %s: %w", schemaName(c.reader), err))
	}
	r := newResolved(c.reader, res)
	if writer.Fingerprint() == c.reader.Fingerprint() {
		r.read = compileRead(c.reader)
	} else {
		r.read = compileResolve(c.reader, writer)
	}
	return r, nil
}

func derefSchema(s avro.Schema) avro.Schema {
	if r, ok := s.(*avro.RefSchema); ok {
		return r.Schema()
	}
	return s
}
