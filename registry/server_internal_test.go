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

func TestClipTo(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"abcdefghijkl", 4, "abcd…"},
		{"ééé", 3, "é…"}, // é is two bytes: never cut inside a rune
		{"ééé", 4, "éé…"},
	} {
		if got := clipTo(c.in, c.n); got != c.want {
			t.Errorf("clipTo(%q, %d) = %q, want %q", c.in, c.n, got, c.want)
		}
	}
}
