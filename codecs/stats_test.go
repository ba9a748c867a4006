package codecs_test

import (
	"context"
	"sync"
	"testing"

	"github.com/sluicehq/sluice/codecs"
)

// countingStats is a codecs.Stats that counts what it is told.
type countingStats struct {
	mu       sync.Mutex
	requests map[codecs.RegistryResult]int
	hits     int
	misses   int
}

func (s *countingStats) RegistryRequest(r codecs.RegistryResult) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.requests == nil {
		s.requests = map[codecs.RegistryResult]int{}
	}
	s.requests[r]++
}

func (s *countingStats) SchemaCacheLookup(hit bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hit {
		s.hits++
	} else {
		s.misses++
	}
}

func TestStatsCountRequestsAndLookups(t *testing.T) {
	ctx := context.Background()
	tr := newTestRegistry(t)
	schemas := codecs.NewSchemas()
	reader := mustParse(t, schemas, userEventV2(t))
	st := &countingStats{}
	c := mustAvro(t, tr.client(), schemas, reader, codecs.WithSubjectName("events-value"), codecs.WithStats(st))
	v := map[string]any{"user_id": "u1", "event_type": "click", "amount": 1.5, "country": "DE", "ts": int64(1)}

	// Three encodes: the first registers (a miss and one request), the next two hit.
	var frame []byte
	for range 3 {
		b, err := c.EncodeContext(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		frame = b
	}
	// Three decodes: the first fetches the writer schema (a miss and one request).
	for range 3 {
		if _, err := c.DecodeContext(ctx, frame); err != nil {
			t.Fatal(err)
		}
	}
	// An unknown id: a miss and a not_found request, then a remembered poison answer (a hit).
	unknown := []byte{0, 0, 0, 0x30, 0x39, 0}
	for range 2 {
		if _, err := c.DecodeContext(ctx, unknown); err == nil {
			t.Fatal("decoding an unknown schema id succeeded")
		}
	}
	want := map[codecs.RegistryResult]int{codecs.RegistryOK: 2, codecs.RegistryNotFound: 1}
	if len(st.requests) != len(want) || st.requests[codecs.RegistryOK] != 2 || st.requests[codecs.RegistryNotFound] != 1 {
		t.Errorf("registry requests %v, want %v", st.requests, want)
	}
	if st.hits != 2+2+1 || st.misses != 1+1+1 {
		t.Errorf("cache hits %d, misses %d; want 5 and 3", st.hits, st.misses)
	}
}
