package registry_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestHTTPFormatCompatibilityLevels registers a second JSON Schema and
// Protobuf version under each compatibility level, and checks the transitive
// levels against all versions, on every store.
func TestHTTPFormatCompatibilityLevels(t *testing.T) {
	type change struct {
		format, typ, v1, v2 string
		backward, forward   bool
	}
	changes := []change{
		// A property added to an open content model: old readers ignore it, new ones cannot read old data that may hold anything under that name.
		{format: "json", typ: "JSON", v1: `{"type":"object","properties":{"a":{"type":"string"}}}`,
			v2: `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}}}`, backward: false, forward: true},
		// A message added: new readers read old data, old readers lack the message.
		{format: "proto", typ: "PROTOBUF", v1: `syntax = "proto3"; message M { string a = 1; }`,
			v2: `syntax = "proto3"; message M { string a = 1; } message N { string b = 1; }`, backward: true, forward: false},
	}
	levels := []string{"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}
	var steps []httpStep
	for _, c := range changes {
		typ := `,"schemaType":"` + c.typ + `"`
		for _, l := range levels {
			s := "/subjects/" + c.format + "-" + strings.ToLower(l)
			ok := l == "NONE" ||
				(strings.HasPrefix(l, "BACKWARD") && c.backward) ||
				(strings.HasPrefix(l, "FORWARD") && c.forward) ||
				(strings.HasPrefix(l, "FULL") && c.backward && c.forward)
			status, code := 409, 409
			if ok {
				status, code = 200, 0
			}
			steps = append(steps,
				httpStep{method: "PUT", path: "/config" + strings.TrimPrefix(s, "/subjects"), body: `{"compatibility":"` + l + `"}`, status: 200},
				httpStep{method: "POST", path: s + "/versions", body: schemaBody(c.v1, typ), status: 200},
				httpStep{method: "POST", path: "/compatibility" + s + "/versions/latest", body: schemaBody(c.v2, typ), status: 200, want: fmt.Sprintf(`{"is_compatible":%v}`, ok)},
				httpStep{method: "POST", path: s + "/versions", body: schemaBody(c.v2, typ), status: status, code: code},
			)
		}
	}

	// Protobuf: v1 -> v2 removes field 1, v2 -> v3 adds field 1 of another
	// kind: each step is compatible, v1 -> v3 is not (FIELD_SCALAR_KIND_CHANGED).
	p := `,"schemaType":"PROTOBUF"`
	chain := []string{
		`syntax = "proto3"; message M { string a = 1; }`,
		`syntax = "proto3"; message M { reserved 2; }`,
		`syntax = "proto3"; message M { int32 b = 1; }`,
	}
	for _, l := range levels[1:] {
		s := "/subjects/chain-" + strings.ToLower(l)
		transitive := strings.HasSuffix(l, "_TRANSITIVE")
		status, code := 200, 0
		if transitive {
			status, code = 409, 409
		}
		steps = append(steps,
			httpStep{method: "PUT", path: "/config" + strings.TrimPrefix(s, "/subjects"), body: `{"compatibility":"` + l + `"}`, status: 200},
			httpStep{method: "POST", path: s + "/versions", body: schemaBody(chain[0], p), status: 200},
			httpStep{method: "POST", path: s + "/versions", body: schemaBody(chain[1], p), status: 200},
			httpStep{method: "POST", path: "/compatibility" + s + "/versions/1?verbose=true", body: schemaBody(chain[2], p), status: 200, contains: "FIELD_SCALAR_KIND_CHANGED"},
			httpStep{method: "POST", path: "/compatibility" + s + "/versions/2", body: schemaBody(chain[2], p), status: 200, want: `{"is_compatible":true}`},
			httpStep{method: "POST", path: s + "/versions", body: schemaBody(chain[2], p), status: status, code: code},
		)
		if transitive { // a soft-deleted version is not checked against
			steps = append(steps,
				httpStep{method: "DELETE", path: s + "/versions/1", status: 200, want: `1`},
				httpStep{method: "POST", path: s + "/versions", body: schemaBody(chain[2], p), status: 200},
			)
		}
	}
	eachStore(t, func(t *testing.T, url string) { runSteps(t, url, steps) })
}
