package pipeline

import (
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/sluicehq/sluice/registry/regclient"
)

// TestRegistryProblem: what a failed startup check says, and how loudly. A
// wrong password or an answer that is no registry's is a configuration
// error (ERROR) named as such; an unreachable registry is a WARN.
func TestRegistryProblem(t *testing.T) {
	const url = "http://registry.example:8081"
	for _, c := range []struct {
		name  string
		err   error
		level slog.Level
		says  string
	}{
		{"wrong password", &regclient.Error{Method: "GET", URL: url + "/schemas/types", StatusCode: 401, Message: "Unauthorized"}, slog.LevelError, "refuses sluice's credentials"},
		{"forbidden", &regclient.Error{Method: "GET", URL: url + "/schemas/types", StatusCode: 403, Code: 40301, Message: "forbidden"}, slog.LevelError, "refuses sluice's credentials"},
		{"html 404", &regclient.Error{Method: "GET", URL: url + "/schemas/types", StatusCode: 404, Message: "<html><body>Not Found</body></html>"}, slog.LevelError, url + " does not answer like a schema registry"},
		{"gateway", &regclient.Error{Method: "GET", URL: url + "/schemas/types", StatusCode: 502, Message: "Bad Gateway"}, slog.LevelWarn, "cannot ask the schema registry at " + url},
		{"registry error", &regclient.Error{Method: "GET", URL: url + "/subjects/x-value/versions", StatusCode: 500, Code: 50001, Message: "store error"}, slog.LevelWarn, "cannot ask the schema registry at " + url},
		{"refused", errors.New("schema registry GET " + url + "/schemas/types: dial tcp: connection refused"), slog.LevelWarn, "cannot ask the schema registry at " + url},
	} {
		reason, level := registryProblem(url, "x-value", c.err)
		if level != c.level || !strings.Contains(reason, c.says) || !strings.Contains(reason, "subject x-value") || !strings.Contains(reason, c.err.Error()) {
			t.Errorf("%s: %s %q, want %s saying %q, the subject and the answer", c.name, level, reason, c.level, c.says)
		}
	}
}
