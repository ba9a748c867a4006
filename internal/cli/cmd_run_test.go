package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/testkit"
)

// TestRunUnwritableStateDir: a --state-dir that cannot be created exits 1 at
// once, naming the folder and the cause, before anything connects.
func TestRunUnwritableStateDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	stateDir := filepath.Join(file, "state") // below a file: never a folder, whoever runs the test
	r := runOffline(t, nil, "run", "-f", referencePipelines, "--brokers", "127.0.0.1:1", "--registry", "http://127.0.0.1:1", "--state-dir", stateDir)
	if r.code != ExitFailure {
		t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, ExitFailure, r.stderr)
	}
	if !strings.Contains(r.stderr, stateDir) || !strings.Contains(r.stderr, "not a directory") {
		t.Errorf("stderr does not name %s and the cause:\n%s", stateDir, r.stderr)
	}
}

// TestRunFencedInstanceIDExits1 starts a second `sluice run` with the
// --instance-id of a running one. The broker (kfake fences static members as
// Kafka does) fences the first: it logs an ERROR naming the id and exits 1
// instead of rejoining and fencing the second in turn; the second goes on
// consuming.
func TestRunFencedInstanceIDExits1(t *testing.T) {
	brokers := testkit.Brokers(t, kfake.AllowAutoTopicCreation())
	u := testkit.Unique("twins")
	in := u + "-in"
	file := emitPipelines(t, brokers, u)
	testkit.CreateTopic(t, brokers, in, 3, nil)
	produce := func(from, n int) {
		records := make([]*kgo.Record, n)
		for i := range records {
			records[i] = &kgo.Record{Topic: in, Key: []byte(fmt.Sprintf("k%d", i%7)), Value: []byte(fmt.Sprintf(`{"seq":%d}`, from+i))}
		}
		testkit.Produce(t, brokers, records)
	}

	const id = "twin-1"
	first := startRun(t, "run", "-f", file, "--instance-id", id)
	produce(0, 20)
	testkit.WaitLagZero(t, brokers, u, in, time.Minute)

	second := startRun(t, "run", "-f", file, "--instance-id", id)
	select {
	case <-first.done:
		if first.code != ExitFailure {
			t.Errorf("the fenced run exited %d, want %d", first.code, ExitFailure)
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("the first run did not exit within 2m of another joining with its instance id; stderr:\n%s", first.stderr.String())
	}
	log := first.stderr.String()
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, `instance id \"`+id+`\"`) || !strings.Contains(log, "fenced") {
		t.Errorf("the fenced run's stderr has no ERROR naming instance id %s:\n%s", id, log)
	}
	if !strings.Contains(log, "sluice: running pipelines: pipeline "+u+": instance id fenced by the broker") {
		t.Errorf("the fenced run's last line does not say why it exits:\n%s", log)
	}

	// The second carries on with the partitions.
	produce(20, 20)
	testkit.WaitLagZero(t, brokers, u, in, time.Minute)
	if n := testkit.TopicSize(t, brokers, u+"-out"); n < 40 {
		t.Errorf("%d outputs, want the 40 events at least once", n)
	}
	second.cancel()
	select {
	case <-second.done:
		if second.code != ExitOK {
			t.Errorf("the second run exited %d on cancel, want 0; stderr:\n%s", second.code, second.stderr.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the second run did not stop within 1m of being cancelled")
	}
	if log := second.stderr.String(); strings.Contains(log, "fenced") {
		t.Errorf("the second run was fenced too:\n%s", log)
	}
}

// cliRun is a CLI command running in the background; code is its exit code
// once done is closed.
type cliRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	code   int
	stderr *syncBuffer
}

// startRun runs the CLI with args until it exits or the test ends.
func startRun(t *testing.T, args ...string) *cliRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &cliRun{cancel: cancel, done: make(chan struct{}), stderr: &syncBuffer{}}
	go func() {
		defer close(r.done)
		// The tests read the log as text.
		r.code = runWithEnv(ctx, append([]string{"--log-format", "text"}, args...), strings.NewReader(""), &syncBuffer{}, r.stderr, func(string) string { return "" })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-r.done:
		case <-time.After(time.Minute):
			t.Errorf("sluice %s did not stop within 1m", strings.Join(args, " "))
		}
	})
	return r
}

// syncBuffer is a bytes.Buffer written by a command's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestInstanceID(t *testing.T) {
	host := func() (string, error) { return "sluice-2", nil }
	noHost := func() (string, error) { return "", errors.New("no uts namespace") }
	for _, c := range []struct {
		name, flag, env string
		fromHost        bool
		hostname        func() (string, error)
		id, from        string
		err             bool
	}{
		{name: "dynamic by default", hostname: host},
		{name: "flag", flag: "a", env: "b", fromHost: true, hostname: host, id: "a", from: "--instance-id"},
		{name: "environment", env: "b", fromHost: true, hostname: host, id: "b", from: "$SLUICE_INSTANCE_ID"},
		{name: "host name only when asked", fromHost: true, hostname: host, id: "sluice-2", from: "the host name"},
		{name: "host name unknown", fromHost: true, hostname: noHost, err: true},
		{name: "host name empty", fromHost: true, hostname: func() (string, error) { return "", nil }, err: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			id, from, err := instanceID(c.flag, c.env, c.fromHost, c.hostname)
			if (err != nil) != c.err || id != c.id || from != c.from {
				t.Errorf("instanceID(%q, %q, %v) = %q, %q, %v; want %q, %q, error %v", c.flag, c.env, c.fromHost, id, from, err, c.id, c.from, c.err)
			}
		})
	}
}

func TestRunRejectsABadInstanceID(t *testing.T) {
	r := runOffline(t, map[string]string{"SLUICE_INSTANCE_ID": "no spaces allowed"}, "run", "-f", referencePipelines)
	if r.code != ExitUsage {
		t.Errorf("exit %d, want %d (usage); stderr:\n%s", r.code, ExitUsage, r.stderr)
	}
}

// emitPipelines writes a pipelines file with one JSON pipeline, u, that
// copies u-in to u-out, on brokers, with a short session for fast
// rebalances.
func emitPipelines(t *testing.T, brokers []string, u string) string {
	t.Helper()
	src := fmt.Sprintf(`version: 1
kafka:
  brokers: %[1]s
  heartbeat: 100ms
  session_timeout: 6s
pipelines:
  - name: %[2]s
    input: {topic: %[2]s-in, codec: json}
    dead_letter: %[2]s-dlq
    outputs:
      out: {topic: %[2]s-out, codec: json}
    steps:
      - emit: out
`, strings.Join(brokers, ","), u)
	file := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(file, []byte(testkit.SecureConfig(src)), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}
