package cli

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/devenv"
	"github.com/sluicehq/sluice/internal/render"
	"github.com/sluicehq/sluice/internal/testkit"
)

// values returns the printed string values, in partition then offset order.
func values(t *testing.T, out string) []string {
	t.Helper()
	recs := parseRecords(t, out)
	slices.SortFunc(recs, func(a, b render.Record) int {
		if a.Partition != b.Partition {
			return int(a.Partition - b.Partition)
		}
		return int(a.Offset - b.Offset)
	})
	var vs []string
	for _, r := range recs {
		s, err := strconv.Unquote(string(r.Value))
		if err != nil {
			t.Fatalf("value %s: %v", r.Value, err)
		}
		vs = append(vs, s)
	}
	return vs
}

// threePartitions makes a topic with a, b, c on partition 0, nothing on 1
// and d on 2.
func threePartitions(t *testing.T, env *devenv.Env) string {
	t.Helper()
	topic := testkit.Unique("until-end")
	testkit.CreateTopic(t, env.Brokers(), topic, 3, nil)
	mustRun(t, env, "a\nb\nc\n", "produce", "--topic", topic, "--codec", "string", "--partition", "0")
	mustRun(t, env, "d\n", "produce", "--topic", topic, "--codec", "string", "--partition", "2")
	return topic
}

func TestConsumeUntilEnd(t *testing.T) {
	env := testkit.Env(t)
	topic := threePartitions(t, env)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--from-beginning"}, []string{"a", "b", "c", "d"}},
		{[]string{"--offset", "beginning"}, []string{"a", "b", "c", "d"}},
		{[]string{"--offset", "-1"}, []string{"c", "d"}},
		{[]string{"--offset", "-10"}, []string{"a", "b", "c", "d"}}, // held to the start
		{[]string{"--offset", "1"}, []string{"b", "c"}},             // partition 2 ends at 1
		{[]string{"--offset", "99"}, nil},
		{[]string{"--offset", "end"}, nil},
		{nil, nil}, // the default is the end
		{[]string{"--from-beginning", "--max", "2"}, []string{"a", "b"}},
	} {
		// No --timeout: --until-end alone must stop.
		args := append([]string{"consume", "--topic", topic, "--until-end", "--codec", "string"}, c.args...)
		if got := values(t, mustRun(t, env, "", args...).stdout); !slices.Equal(got, c.want) {
			t.Errorf("consume --until-end %v printed %q, want %q", c.args, got, c.want)
		}
	}

	res := runCLI(t, env, "", "consume", "--topic", testkit.Unique("missing"), "--until-end")
	if res.code != ExitFailure || !strings.Contains(res.stderr, "does not exist: --until-end has no end") {
		t.Errorf("--until-end on a missing topic: exit %d, stderr %q", res.code, res.stderr)
	}
}

// The end of a transactional topic is a commit marker, which is never
// printed: --until-end must still see it and stop.
func TestConsumeUntilEndAfterATransaction(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("txn")
	testkit.CreateTopic(t, env.Brokers(), topic, 1, nil)
	cl := testkit.Client(t, env.Brokers(), kgo.TransactionalID(testkit.Unique("txn-id")), kgo.DefaultProduceTopic(topic))
	ctx := t.Context()
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("x")}, &kgo.Record{Value: []byte("y")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	got := values(t, mustRun(t, env, "", "consume", "--topic", topic, "--until-end", "--from-beginning", "--codec", "string").stdout)
	if !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("printed %q, want x, y", got)
	}
}

func TestEndTrackerIgnoresRecordsPastTheEnd(t *testing.T) {
	tr := newEndTracker(map[int32]span{0: {from: 3, to: 5}, 1: {from: 7, to: 7}})
	if tr.done() {
		t.Fatal("done before partition 0 reached its end")
	}
	if !tr.see(&kgo.Record{Partition: 0, Offset: 3}) || tr.done() {
		t.Fatal("offset 3 of [3, 5) is printed and does not end the partition")
	}
	// Offset 4 was compacted away: offset 5, written after the start, ends
	// the partition too but is not printed.
	if tr.see(&kgo.Record{Partition: 0, Offset: 5}) || !tr.done() {
		t.Fatal("offset 5 is past the end of [3, 5) and ends the partition")
	}

	tr = newEndTracker(map[int32]span{0: {from: 3, to: 5}})
	if !tr.see(&kgo.Record{Partition: 0, Offset: 4}) || !tr.done() {
		t.Fatal("offset 4, the last of [3, 5), is printed and ends the partition")
	}
}

func TestConsumeFromTime(t *testing.T) {
	env := testkit.Env(t)
	topic := testkit.Unique("from-time")
	testkit.CreateTopic(t, env.Brokers(), topic, 2, nil)
	now := time.Now()
	// One record a batch: kfake finds a time's offset by batch, Kafka by record.
	cl := testkit.Client(t, env.Brokers(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for _, r := range []*kgo.Record{
		{Partition: 0, Value: []byte(`"old"`), Timestamp: now.Add(-2 * time.Hour)},
		{Partition: 0, Value: []byte(`"recent"`), Timestamp: now.Add(-5 * time.Minute)},
		{Partition: 1, Value: []byte(`"older"`), Timestamp: now.Add(-3 * time.Hour)},
		{Partition: 1, Value: []byte(`"new"`), Timestamp: now.Add(-time.Minute)},
	} {
		r.Topic = topic
		if err := cl.ProduceSync(t.Context(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	since := now.Add(-30 * time.Minute).UTC().Format(time.RFC3339)
	for _, args := range [][]string{
		{"--from-time", "30m", "--until-end"},
		{"--from-time", "-30m", "--until-end"},
		{"--from-time", since, "--until-end"},
		{"--from-time", since, "--max", "2", safety}, // resolved by the client instead
		{"--from-time", "30m", "--group", testkit.Unique("g"), "--max", "2", safety},
	} {
		got := values(t, mustRun(t, env, "", append([]string{"consume", "--topic", topic}, args...)...).stdout)
		if !slices.Equal(got, []string{"recent", "new"}) {
			t.Errorf("consume %v printed %q, want recent, new", args, got)
		}
	}
	// After the newest record: nothing to read.
	if out := mustRun(t, env, "", "consume", "--topic", topic, "--from-time", now.Add(time.Hour).Format(time.RFC3339), "--until-end").stdout; out != "" {
		t.Errorf("from a future time printed %q", out)
	}
}

// --offset without --until-end is resolved by the client; it must agree
// with the explicit resolution of --until-end.
func TestConsumeOffsetWithoutUntilEnd(t *testing.T) {
	env := testkit.Env(t)
	topic := threePartitions(t, env)
	for _, c := range []struct {
		offset string
		want   []string
	}{
		{"-1", []string{"c", "d"}},
		{"1", []string{"b", "c"}},
		{"beginning", []string{"a", "b", "c", "d"}},
	} {
		args := []string{"consume", "--topic", topic, "--codec", "string", "--offset", c.offset, "--max", strconv.Itoa(len(c.want)), safety}
		if got := values(t, mustRun(t, env, "", args...).stdout); !slices.Equal(got, c.want) {
			t.Errorf("--offset %s printed %q, want %q", c.offset, got, c.want)
		}
	}
	// In a group, --offset is where a partition without a commit starts.
	group := testkit.Unique("g")
	got := values(t, mustRun(t, env, "", "consume", "--topic", topic, "--codec", "string", "--group", group,
		"--offset", "-1", "--max", "2", safety).stdout)
	if !slices.Equal(got, []string{"c", "d"}) {
		t.Errorf("--group --offset -1 printed %q, want c, d", got)
	}
}
