package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// slowStore is a store whose writes take delay, as a Kafka store's may.
type slowStore struct {
	Store
	delay time.Duration
}

func (s slowStore) update(ctx context.Context, fn func(st *state) ([]entry, error)) error {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return ctx.Err()
	}
	return s.Store.update(ctx, fn)
}

// TestBodyTimeoutSparesSlowHandlers registers through a store slower than the
// body read timeout: once the body is in, its deadline must not cancel the
// request (net/http cancels the context when a read deadline passes).
func TestBodyTimeoutSparesSlowHandlers(t *testing.T) {
	const bodyTimeout = 100 * time.Millisecond
	srv := httptest.NewServer(NewServer(slowStore{NewMemoryStore(), 5 * bodyTimeout}, WithBodyReadTimeout(bodyTimeout)))
	defer srv.Close()
	resp, err := http.Post(srv.URL+"/subjects/s/versions", "application/json", strings.NewReader(`{"schema":"\"int\""}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
}
