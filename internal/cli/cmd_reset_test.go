package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testkit"
)

// counterFile writes a pipelines file with one stateful JSON pipeline.
func counterFile(t *testing.T, brokers []string, name string) string {
	t.Helper()
	dir := t.TempDir()
	state := `{"type": "record", "name": "Counter", "fields": [{"name": "n", "type": "long"}]}`
	if err := os.WriteFile(filepath.Join(dir, "state.avsc"), []byte(state), 0o644); err != nil {
		t.Fatal(err)
	}
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %[2]s
  partitions: 2
pipelines:
  - name: %[1]s
    group: %[1]s
    input: {topic: %[1]s-in, codec: json}
    dead_letter: %[1]s-dlq
    state:
      schema: state.avsc
    outputs:
      out: {topic: %[1]s-out, codec: json}
    steps:
      - aggregate:
          init: {n: 0}
          set: {n: state.n + 1}
      - emit: out
  - name: %[1]s-plain
    input: {topic: %[1]s-in, codec: json}
    dead_letter: %[1]s-dlq
    outputs:
      out: {topic: %[1]s-out, codec: json}
    steps:
      - emit: out
`, name, strings.Join(brokers, ","))
	file := filepath.Join(dir, "pipelines.yaml")
	if err := os.WriteFile(file, []byte(testkit.SecureConfig(src)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestResetCommand: sluice reset refuses while the group has a member,
// naming it; --dry-run prints each partition's current and new offset and
// changes nothing; a reset moves the offsets and warns that a kept state is
// applied again; bad flags are usage errors (exit 2).
func TestResetCommand(t *testing.T) {
	brokers := testkit.Brokers(t)
	name := testkit.Unique("reset")
	file := counterFile(t, brokers, name)
	testkit.CreateTopic(t, brokers, name+"-in", 2, nil)
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: name + "-in", Partition: int32(i % 2), Key: []byte("k"), Value: []byte(`{}`)})
	}
	if err := testkit.Client(t, brokers, kgo.RecordPartitioner(kgo.ManualPartitioner())).ProduceSync(t.Context(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{envBrokers: strings.Join(brokers, ",")}

	// A live member of the group: a consumer that read and committed all.
	member := testkit.Client(t, brokers, kgo.ConsumerGroup(name), kgo.ConsumeTopics(name+"-in"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.ClientID("the-member"), kgo.DisableAutoCommit())
	read := 0
	for read < len(recs) {
		fs := member.PollFetches(t.Context())
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		read += fs.NumRecords()
	}
	if err := member.CommitUncommittedOffsets(t.Context()); err != nil {
		t.Fatal(err)
	}
	r := cliWith(t, env, "", "reset", "-f", file, "--pipeline", name, "--to", "earliest")
	if r.code != 1 || !strings.Contains(r.stderr, "live member") || !strings.Contains(r.stderr, "stop every instance") {
		t.Errorf("reset with a live member: exit %d, stderr %s; want 1 naming the members", r.code, r.stderr)
	}
	member.Close()
	committed := func() map[int32]int64 {
		t.Helper()
		resp, err := testkit.Admin(t, brokers).FetchOffsetsForTopics(t.Context(), name, name+"-in")
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatal(err)
		}
		out := map[int32]int64{}
		resp.Each(func(o kadm.OffsetResponse) { out[o.Partition] = o.At })
		return out
	}
	testkit.Eventually(t, 30*time.Second, "the member to leave", func() bool {
		return !strings.Contains(cliWith(t, env, "", "reset", "-f", file, "--pipeline", name, "--to", "earliest", "--dry-run").stderr, "live member")
	})

	r = cliWith(t, env, "", "reset", "-f", file, "--pipeline", name, "--to", "earliest", "--dry-run")
	if r.code != 0 {
		t.Fatalf("dry run: exit %d, stderr %s", r.code, r.stderr)
	}
	for _, want := range []string{"PARTITION  CURRENT  NEW", "0          5        0", "1          5        0", "warning: state is kept", "dry run: nothing changed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := committed(); got[0] != 5 || got[1] != 5 {
		t.Errorf("after a dry run the offsets are %v, want 5 and 5", got)
	}

	r = cliWith(t, env, "", "reset", "-f", file, "--pipeline", name, "--to", "3")
	if r.code != 0 || !strings.Contains(r.stdout, "reset group "+name+" to 3") {
		t.Fatalf("reset --to 3: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if got := committed(); got[0] != 3 || got[1] != 3 {
		t.Errorf("after reset --to 3 the offsets are %v, want 3 and 3", got)
	}
	r = cliWith(t, env, "", "reset", "-f", file, "--pipeline", name, "--to", "99", "--dry-run")
	if !strings.Contains(r.stdout, "offset 99 is outside [0, 5]") {
		t.Errorf("an offset past the end is not said to be clamped:\n%s", r.stdout)
	}
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	r = cliWith(t, env, "", "reset", "-f", file, "--pipeline", name, "--to", future, "--dry-run")
	if !strings.Contains(r.stdout, "0          3        5") {
		t.Errorf("a time after every record does not move to the end:\n%s", r.stdout)
	}

	for _, args := range [][]string{
		{"--pipeline", name},
		{"--to", "earliest"},
		{"--pipeline", name, "--to", "yesterday"},
		{"--pipeline", name, "--to", "-4"},
		{"--pipeline", "nope", "--to", "earliest"},
		{"--pipeline", name + "-plain", "--to", "earliest", "--clear-state"},
	} {
		r := cliWith(t, env, "", append([]string{"reset", "-f", file}, args...)...)
		if r.code != 2 {
			t.Errorf("reset %v: exit %d, want 2 (stderr %s)", args, r.code, r.stderr)
		}
	}
}
