package pipeline_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/pipeline"
)

// TestLoadStateCache: state.cache sets the entries cached per partition,
// defaults to DefaultStateCacheEntries, and may not be negative.
func TestLoadStateCache(t *testing.T) {
	schema, err := filepath.Abs("../schemas/user_stats.avsc")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		state, want string
		entries     int
	}{
		{"{schema: SCHEMA}", "", pipeline.DefaultStateCacheEntries},
		{"{schema: SCHEMA, cache: 0}", "", 0},
		{"{schema: SCHEMA, cache: 500}", "", 500},
		{"{schema: SCHEMA, cache: -1}", fmt.Sprintf("p.yaml:6:%d: cache must be 0 (off) or more entries, got -1", len("    state: {schema: "+schema+", cache: ")+1), 0},
	} {
		src := strings.ReplaceAll(`version: 1
pipelines:
  - name: p
    input: {topic: in, codec: json}
    dead_letter: dlq
    state: `+c.state+`
    steps:
      - aggregate: {set: {events: state.events + 1}}
`, "SCHEMA", schema)
		path := filepath.Join(t.TempDir(), "p.yaml")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := pipeline.Load(path)
		if c.want != "" {
			if err == nil || !strings.HasSuffix(err.Error(), c.want) {
				t.Errorf("%s: error %v, want one ending %q", c.state, err, c.want)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", c.state, err)
		}
		if got := cfg.Pipeline("p").State.CacheEntries; got != c.entries {
			t.Errorf("%s: %d entries cached, want %d", c.state, got, c.entries)
		}
	}
}
