package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/internal/buildinfo"
)

func TestVersion(t *testing.T) {
	want := buildinfo.Get().String() + "\n"
	for _, args := range [][]string{{"version"}, {"--version"}} {
		r := runOffline(t, nil, args...)
		if r.code != ExitOK || r.stdout != want || r.stderr != "" {
			t.Errorf("sluice %s: exit %d, stdout %q (want %q), stderr %q", strings.Join(args, " "), r.code, r.stdout, want, r.stderr)
		}
	}
	if !strings.HasPrefix(want, "sluice ") || !strings.Contains(want, runtime.Version()) {
		t.Errorf("version line %q does not name sluice and %s", want, runtime.Version())
	}
}

// TestLogFormat runs `registry serve` with a context that is already
// cancelled (it logs that it serves, then that it stopped) and reads the log
// in each format.
func TestLogFormat(t *testing.T) {
	args := []string{"registry", "serve", "--memory", "--addr", "127.0.0.1:0"}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		json bool
	}{
		{"default off a terminal is json", nil, args, true},
		{"flag text", nil, append([]string{"--log-format", "text"}, args...), false},
		{"flag after the command", nil, append(append([]string{}, args...), "--log-format", "json"), true},
		{"env text", map[string]string{envLogFormat: "text"}, args, false},
		{"flag beats env", map[string]string{envLogFormat: "text"}, append([]string{"--log-format", "json"}, args...), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			var stdout, stderr bytes.Buffer
			code := runWithEnv(ctx, c.args, strings.NewReader(""), &stdout, &stderr, func(k string) string { return c.env[k] })
			r := offlineResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
			lines := logLines(r.stderr)
			if len(lines) == 0 {
				t.Fatalf("no log lines; stderr:\n%s", r.stderr)
			}
			for _, l := range lines {
				var m map[string]any
				isJSON := json.Unmarshal([]byte(l), &m) == nil
				if isJSON != c.json {
					t.Errorf("log line %q: JSON %v, want %v", l, isJSON, c.json)
				}
				if isJSON && (m["level"] == nil || m["msg"] == nil || m["time"] == nil) {
					t.Errorf("JSON log line %q lacks time, level or msg", l)
				}
			}
		})
	}
	r := runOffline(t, nil, "--log-format", "xml", "registry", "serve", "--memory")
	if r.code != ExitUsage || !strings.Contains(r.stderr, `--log-format: "xml" is not json or text`) {
		t.Errorf("--log-format xml: exit %d, stderr %q", r.code, r.stderr)
	}
}

// logLines returns the log lines of stderr, leaving out the final
// "sluice: <error>" line the CLI prints itself.
func logLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stderr), "\n") {
		if l != "" && !strings.HasPrefix(l, "sluice: ") {
			out = append(out, l)
		}
	}
	return out
}
