package testkit

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// PostgresVar names the environment variable that points the outbox tests at
// a running PostgreSQL (a DSN, as scripts/postgres.sh start prints it).
const PostgresVar = "SLUICE_TEST_POSTGRES_DSN"

// Postgres returns the DSN of a PostgreSQL for the test: $SLUICE_TEST_POSTGRES_DSN
// when set; otherwise, when initdb is installed, a throw-away cluster that
// scripts/postgres.sh starts for this test on a free loopback port and
// removes when the test ends. Without either the test fails, saying how to
// get one: a test that needs PostgreSQL never passes without it.
func Postgres(t testing.TB) string {
	t.Helper()
	if dsn := os.Getenv(PostgresVar); dsn != "" {
		return dsn
	}
	script := filepath.Join(repoRoot(t), "scripts", "postgres.sh")
	if !postgresInstalled() {
		t.Fatalf("this test needs PostgreSQL: set $%s to a DSN, or install it (scripts/postgres.sh install) "+
			"so that the test starts a throw-away cluster itself", PostgresVar)
	}
	// Under the repository's .cache, not t.TempDir(): as root the script runs
	// the server as the postgres user, who cannot enter a 0700 temp dir.
	cache := filepath.Join(repoRoot(t), ".cache")
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp(cache, "postgres-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "SLUICE_POSTGRES_DIR="+dir)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(script, args...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		if err != nil {
			return out.String(), &scriptError{args: args, err: err, stderr: errb.String()}
		}
		return out.String(), nil
	}
	t.Cleanup(func() {
		if _, err := run("stop", "--clean"); err != nil {
			t.Errorf("stopping PostgreSQL: %v", err)
		}
	})
	out, err := run("start", "--port", strconv.Itoa(freePort(t)))
	if err != nil {
		t.Fatalf("starting PostgreSQL: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

type scriptError struct {
	args   []string
	err    error
	stderr string
}

func (e *scriptError) Error() string {
	return "scripts/postgres.sh " + strings.Join(e.args, " ") + ": " + e.err.Error() + "\n" + e.stderr
}

// postgresInstalled reports whether initdb is on PATH or in Debian's folders.
func postgresInstalled() bool {
	if _, err := exec.LookPath("initdb"); err == nil {
		return true
	}
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	return len(m) > 0
}

// repoRoot is the module's root folder, found from this file's path.
func repoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot find the repository root")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// freePort returns a loopback port nothing listens on now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
