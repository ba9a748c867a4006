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
	name string
	cmd  *exec.Cmd
	log  string
	done chan error
}

func start(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	logPath := filepath.Join(t.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan error, 1)}
	go func() {
		p.done <- cmd.Wait()
		f.Close()
	}()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	if p.cmd.ProcessState != nil {
		return
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
	kafka, reg := testkit.FreeAddr(t), testkit.FreeAddr(t)
	dev := start(t, "dev", nil, "dev", "--no-pipelines", "--kafka-addr", kafka, "--registry-addr", reg, "-f", "../../pipelines.yaml")
	s := &services{brokers: []string{kafka}, registry: "http://" + reg, dev: dev}
	waitHTTP(t, s.registry+"/subjects", 30*time.Second, dev)
	return s
}

func (s *services) env() []string {
	return []string{"SLUICE_BROKERS=" + strings.Join(s.brokers, ","), "SLUICE_REGISTRY_URL=" + s.registry}
}

// waitHTTP polls url until it answers 200.
func waitHTTP(t *testing.T, url string, timeout time.Duration, p *proc) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer 200 within %s; log:\n%s", url, timeout, p.tail(40))
		}
		time.Sleep(100 * time.Millisecond)
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
// by suffix and schema paths made absolute, and returns its path.
func pipelinesFile(t *testing.T, suffix string, extra string) string {
	t.Helper()
	src, err := os.ReadFile("../../pipelines.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(src)
	for _, name := range []string{"user-topic", "user-stats", "big-purchases"} {
		text = strings.ReplaceAll(text, name, name+suffix)
	}
	abs, _ := filepath.Abs("../../schemas")
	text = strings.ReplaceAll(text, "schemas/", abs+"/")
	text = strings.Replace(text, "  partitioner: murmur2", "  partitioner: murmur2\n  heartbeat: 200ms\n  session_timeout: 6s"+extra, 1)
	path := filepath.Join(t.TempDir(), "pipelines.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
