package pipeline_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
	"github.com/sluicehq/sluice/pipeline"
)

// TestTopicChecks: a group table that is not compacted, or not co-partitioned
// with its input, stops sluice before it consumes anything, with a message
// naming the topic and the setting.
func TestTopicChecks(t *testing.T) {
	env := testkit.Env(t)
	cases := []struct {
		name      string
		partition int
		configs   map[string]string
		want      []string
	}{
		{"not compacted", 6, map[string]string{"cleanup.policy": "delete"}, []string{"-table", "cleanup.policy=delete", "cleanup.policy=compact"}},
		{"not co-partitioned", 3, map[string]string{"cleanup.policy": "compact"}, []string{"-table", "has 3 partitions", "its input has 6", "co-partitioned"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, names := referenceConfig(t, env)
			testkit.CreateTopic(t, env.Brokers(), names.input, 6, nil)
			testkit.CreateTopic(t, env.Brokers(), pipeline.TableTopic(names.statsGroup), c.partition, c.configs)
			rt, err := pipeline.New(cfg, pipeline.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err = rt.Run(ctx)
			if err == nil {
				t.Fatal("Run succeeded with a bad table topic")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if !strings.Contains(err.Error(), pipeline.TableTopic(names.statsGroup)) {
				t.Errorf("error %q does not name the table topic", err)
			}
		})
	}
}
