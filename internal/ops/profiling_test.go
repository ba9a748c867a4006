package ops

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestWithProfilingServesProfilesBesideTheEndpoints(t *testing.T) {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "inner "+r.URL.Path)
	})
	srv := httptest.NewServer(WithProfiling(inner))
	defer srv.Close()

	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		return resp.StatusCode, string(b)
	}
	if code, body := get("/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "mutex") {
		t.Errorf("/debug/pprof/: %d %q, want 200 and the index of profiles", code, body)
	}
	for _, p := range []string{"/debug/pprof/block?debug=1", "/debug/pprof/mutex?debug=1", "/debug/pprof/goroutine?debug=1"} {
		if code, body := get(p); code != http.StatusOK || body == "" {
			t.Errorf("%s: %d with %d bytes, want 200 and a profile", p, code, len(body))
		}
	}
	if code, body := get("/metrics"); code != http.StatusOK || body != "inner /metrics" {
		t.Errorf("/metrics: %d %q, want the wrapped handler's answer", code, body)
	}
}
