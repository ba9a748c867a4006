package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluicehq/sluice/internal/testkit"
)

// binary is the sluice binary built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "sluice")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/sluice")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building sluice:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running sluice subprocess whose output goes to a log file.
type proc struct {
	name   string
	cmd    *exec.Cmd
	log    string
	done   chan error
	exited chan struct{} // closed when the process has exited
}

func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	// The tests read the log as text (opsAddrLine and others).
	cmd.Env = append(append(os.Environ(), "SLUICE_LOG_FORMAT=text"), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan error, 1), exited: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		f.Close()
		close(p.exited)
		p.done <- err
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	p.done <- nil // later kills return at once
}

// stop sends SIGTERM and returns the exit error (nil for exit 0).
func (p *proc) stop(t *testing.T, timeout time.Duration) error {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- nil
		return err
	case <-time.After(timeout):
		t.Errorf("%s did not stop within %s after SIGTERM; log:\n%s", p.name, timeout, p.tail(40))
		p.kill()
		return fmt.Errorf("timeout")
	}
}

// opsAddrLine is the line `sluice run` logs once its --http-addr listener
// is bound, e.g. `msg="serving operations endpoints" addr=127.0.0.1:41234`.
var opsAddrLine = regexp.MustCompile(`msg="serving operations endpoints" addr=(\S+)`)

// awaitLine waits until a line of the process's output matches re and
// returns its submatches. It fails the test, with the log's tail, when the
// process exits first or timeout passes.
func (p *proc) awaitLine(t *testing.T, re *regexp.Regexp, timeout time.Duration) []string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		out, err := os.ReadFile(p.log)
		if err != nil {
			t.Fatalf("reading the output of %s: %v", p.name, err)
		}
		if m := re.FindSubmatch(out); m != nil {
			subs := make([]string, len(m))
			for i, b := range m {
				subs[i] = string(b)
			}
			return subs
		}
		select {
		case <-p.exited:
			// Look once more: the last line may have come with the exit.
			if out, err := os.ReadFile(p.log); err == nil && re.Match(out) {
				continue
			}
			t.Fatalf("%s exited before printing a line matching %q; log:\n%s", p.name, re, p.tail(40))
		case <-deadline:
			t.Fatalf("timed out after %s waiting for %s to print a line matching %q; log:\n%s", timeout, p.name, re, p.tail(40))
		case <-time.After(20 * time.Millisecond): // the poll interval: the output goes to a file
		}
	}
}

// tail returns the last n lines of the process's log.
func (p *proc) tail(n int) string {
	f, err := os.Open(p.log)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// services are a broker and a registry for the processes under test: a
// `sluice dev --no-pipelines` subprocess, or the real broker of
// $SLUICE_TEST_BROKERS with an in-process registry.
type services struct {
	brokers  []string
	registry string
	dev      *proc
}

func startServices(t *testing.T) *services {
	t.Helper()
	if testkit.External() {
		env := testkit.Env(t)
		return &services{brokers: env.Brokers(), registry: env.RegistryURL()}
	}
	// Random ports, which `sluice dev` prints once it has bound them.
	dev := start(t, "dev", nil, "dev", "--no-pipelines", "--kafka-addr", "127.0.0.1:0", "--registry-addr", "127.0.0.1:0", "-f", "../../pipelines.yaml")
	kafka := dev.awaitLine(t, devKafkaLine, 30*time.Second)[1]
	reg := dev.awaitLine(t, devRegistryLine, 30*time.Second)[1]
	s := &services{brokers: strings.Split(kafka, ","), registry: reg, dev: dev}
	waitHTTP(t, s.registry+"/subjects", 30*time.Second, dev)
	return s
}

// The lines `sluice dev` prints with the addresses it bound.
var (
	devKafkaLine    = regexp.MustCompile(`(?m)^kafka +(\S+)$`)
	devRegistryLine = regexp.MustCompile(`(?m)^registry +(http://\S+)$`)
)

func (s *services) env() []string {
	env := []string{"SLUICE_BROKERS=" + strings.Join(s.brokers, ","), "SLUICE_REGISTRY_URL=" + s.registry}
	return append(env, testkit.CLIEnv(testkit.Kafka(s.brokers))...)
}

// waitHTTP polls url until it answers 200.
func waitHTTP(t *testing.T, url string, timeout time.Duration, p *proc) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		var last string
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
		} else {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s to answer 200: last answer %s; log:\n%s", timeout, url, last, p.tail(40))
		}
		time.Sleep(100 * time.Millisecond) // the poll interval of this bounded wait
	}
}

// getJSON fetches url into v and returns the status code.
func getJSON(ctx context.Context, url string, v any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK && v != nil {
		return resp.StatusCode, json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode, nil
}

// pipelinesFile writes the reference pipelines with topics and groups renamed
// by suffix and schema paths made absolute, a short heartbeat and session
// timeout and the extra kafka settings, and returns its path.
func pipelinesFile(t *testing.T, suffix string, extra string) string {
	t.Helper()
	return referencePipelines(t, suffix, "\n  heartbeat: 200ms\n  session_timeout: 6s"+extra)
}

// referencePipelines is pipelinesFile with only the kafka settings given
// (each line starting with a newline and two spaces): without any, the
// group timings are sluice's defaults.
func referencePipelines(t *testing.T, suffix string, kafka string) string {
	t.Helper()
	src, err := os.ReadFile("../../pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, name := range []string{"user-topic", "user-stats", "big-purchases", "user-purchases-5m"} {
		text = strings.ReplaceAll(text, name, name+suffix)
	}
	abs, _ := filepath.Abs("../../schemas")
	text = strings.ReplaceAll(text, "schemas/", abs+"/")
	text = strings.Replace(text, "  partitioner: murmur2", "  partitioner: murmur2"+kafka, 1)
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
