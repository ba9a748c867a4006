package registry_test

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const srContentType = "application/vnd.schemaregistry.v1+json"

// httpStep is one request of a scripted conversation and what must come back.
type httpStep struct {
	method, path string
	body         string // request body, sent as is
	ctype        string // request Content-Type; default srContentType
	status       int
	code         int    // expected error_code, when non-zero
	want         string // expected JSON, compared semantically, when non-empty
	contains     string // substring the response body must contain, when non-empty
}

// schemaBody is a register/lookup/compatibility request body.
func schemaBody(schema string, extra ...string) string {
	b, _ := json.Marshal(schema)
	return `{"schema":` + string(b) + strings.Join(extra, "") + `}`
}

// jsonString quotes s as a JSON string.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func runSteps(t *testing.T, url string, steps []httpStep) {
	t.Helper()
	for i, s := range steps {
		var body io.Reader
		if s.body != "" {
			body = strings.NewReader(s.body)
		}
		req, err := http.NewRequest(s.method, url+s.path, body)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		ct := s.ctype
		if ct == "" {
			ct = srContentType
		}
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("step %d %s %s: %v", i, s.method, s.path, err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		where := s.method + " " + s.path
		if resp.StatusCode != s.status {
			t.Fatalf("step %d %s: status %d, want %d; body %s", i, where, resp.StatusCode, s.status, raw)
		}
		if got := resp.Header.Get("Content-Type"); got != srContentType {
			t.Errorf("step %d %s: Content-Type %q, want %q", i, where, got, srContentType)
		}
		if s.status >= 400 {
			var e struct {
				Code    *int    `json:"error_code"`
				Message *string `json:"message"`
			}
			if err := json.Unmarshal(raw, &e); err != nil || e.Code == nil || e.Message == nil || *e.Message == "" {
				t.Fatalf("step %d %s: error body %s is not {error_code,message}", i, where, raw)
			}
			if s.code != 0 && *e.Code != s.code {
				t.Fatalf("step %d %s: error_code %d, want %d; body %s", i, where, *e.Code, s.code, raw)
			}
		}
		if s.want != "" {
			var got, want any
			if err := json.Unmarshal(raw, &got); err != nil {
				t.Fatalf("step %d %s: response %s: %v", i, where, raw, err)
			}
			if err := json.Unmarshal([]byte(s.want), &want); err != nil {
				t.Fatalf("step %d: bad want %s: %v", i, s.want, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("step %d %s:\n got %s\nwant %s", i, where, raw, s.want)
			}
		}
		if s.contains != "" && !strings.Contains(string(raw), s.contains) {
			t.Fatalf("step %d %s: body %s does not contain %q", i, where, raw, s.contains)
		}
	}
}

// TestHTTPConformance walks every endpoint and error code of the contract with
// plain net/http, on every store.
func TestHTTPConformance(t *testing.T) {
	const s = "/subjects/user-topic-value"
	v1, v2, v3 := jsonString(userEventV1), jsonString(userEventV2), jsonString(userEventV3Bad)
	steps := []httpStep{
		// Empty registry.
		{method: "GET", path: "/", status: 200, want: `{}`},
		{method: "GET", path: "/subjects", status: 200, want: `[]`},
		{method: "GET", path: "/schemas/types", status: 200, want: `["JSON","PROTOBUF","AVRO"]`},
		{method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"BACKWARD"}`},
		{method: "GET", path: s + "/versions", status: 404, code: 40401},
		{method: "GET", path: "/schemas/ids/1", status: 404, code: 40403},

		// Register, idempotently.
		{method: "POST", path: s + "/versions", body: schemaBody(userEventV1), status: 200, want: `{"id":1}`},
		{method: "POST", path: s + "/versions", body: schemaBody(userEventV1Reordered), status: 200, want: `{"id":1}`},
		{method: "POST", path: s + "/versions", body: schemaBody(userEventV1, `,"schemaType":"AVRO","references":[]`), status: 200, want: `{"id":1}`},
		{method: "GET", path: s + "/versions", status: 200, want: `[1]`},
		{method: "POST", path: s + "/versions", body: schemaBody(userEventV2), status: 200, want: `{"id":2}`},
		{method: "POST", path: s + "/versions", body: schemaBody(userEventV3Bad), status: 409, code: 409, contains: "region"},
		{method: "GET", path: s + "/versions", status: 200, want: `[1,2]`},

		// Read versions.
		{method: "GET", path: s + "/versions/1", status: 200, want: `{"subject":"user-topic-value","version":1,"id":1,"schema":` + v1 + `}`},
		{method: "GET", path: s + "/versions/latest", status: 200, want: `{"subject":"user-topic-value","version":2,"id":2,"schema":` + v2 + `}`},
		{method: "GET", path: s + "/versions/-1", status: 200, want: `{"subject":"user-topic-value","version":2,"id":2,"schema":` + v2 + `}`},
		{method: "GET", path: s + "/versions/1/schema", status: 200, want: userEventV1},
		{method: "GET", path: s + "/versions/1/referencedby", status: 200, want: `[]`},
		{method: "GET", path: s + "/versions/3", status: 404, code: 40402},
		{method: "GET", path: s + "/versions/0", status: 422, code: 42202},
		{method: "GET", path: s + "/versions/abc", status: 422, code: 42202},
		{method: "GET", path: s + "/versions/99999999999", status: 422, code: 42202},
		{method: "GET", path: "/subjects/nope/versions/1", status: 404, code: 40401},
		{method: "GET", path: "/subjects/nope/versions/latest", status: 404, code: 40401},

		// Lookup.
		{method: "POST", path: s, body: schemaBody(userEventV2), status: 200, want: `{"subject":"user-topic-value","version":2,"id":2,"schema":` + v2 + `}`},
		{method: "POST", path: s, body: schemaBody(userEventV1Reordered), status: 200, want: `{"subject":"user-topic-value","version":1,"id":1,"schema":` + v1 + `}`},
		{method: "POST", path: s, body: schemaBody(userEventV3Bad), status: 404, code: 40403},
		{method: "POST", path: "/subjects/nope", body: schemaBody(userEventV1), status: 404, code: 40401},
		{method: "POST", path: s, body: schemaBody(`{"type":"record"}`), status: 422, code: 42201},

		// Compatibility checks: latest, a version, all versions, verbose.
		{method: "POST", path: "/compatibility" + s + "/versions/latest", body: schemaBody(userEventV2), status: 200, want: `{"is_compatible":true}`},
		{method: "POST", path: "/compatibility" + s + "/versions/latest?verbose=true", body: schemaBody(userEventV2), status: 200, want: `{"is_compatible":true,"messages":[]}`},
		{method: "POST", path: "/compatibility" + s + "/versions/latest", body: schemaBody(userEventV3Bad), status: 200, want: `{"is_compatible":false}`},
		{method: "POST", path: "/compatibility" + s + "/versions/latest?verbose=true", body: schemaBody(userEventV3Bad), status: 200,
			contains: `reader field region is missing in writer schema and has no default`},
		{method: "POST", path: "/compatibility" + s + "/versions/1?verbose=true", body: schemaBody(userEventV3Bad), status: 200, contains: `version 1`},
		{method: "POST", path: "/compatibility" + s + "/versions", body: schemaBody(userEventV3Bad), status: 200, want: `{"is_compatible":false}`},
		{method: "POST", path: "/compatibility" + s + "/versions", body: schemaBody(userEventV2), status: 200, want: `{"is_compatible":true}`},
		{method: "POST", path: "/compatibility" + s + "/versions/7", body: schemaBody(userEventV2), status: 404, code: 40402},
		{method: "POST", path: "/compatibility" + s + "/versions/x", body: schemaBody(userEventV2), status: 422, code: 42202},
		{method: "POST", path: "/compatibility/subjects/nope/versions/latest", body: schemaBody(userEventV3Bad), status: 200, want: `{"is_compatible":true}`},
		{method: "POST", path: "/compatibility/subjects/nope/versions", body: schemaBody(userEventV3Bad), status: 200, want: `{"is_compatible":true}`},
		{method: "POST", path: "/compatibility/subjects/nope/versions/1", body: schemaBody(userEventV3Bad), status: 404, code: 40401},
		{method: "POST", path: "/compatibility" + s + "/versions/latest", body: schemaBody(`{"type":"nope"}`), status: 422, code: 42201},

		// The same schema under another subject keeps its id.
		{method: "POST", path: "/subjects/other-value/versions", body: schemaBody(userEventV1), status: 200, want: `{"id":1}`},
		{method: "GET", path: "/schemas/ids/1", status: 200, want: `{"schema":` + v1 + `}`},
		{method: "GET", path: "/schemas/ids/1/schema", status: 200, want: userEventV1},
		{method: "GET", path: "/schemas/ids/1/versions", status: 200, want: `[{"subject":"other-value","version":1},{"subject":"user-topic-value","version":1}]`},
		{method: "GET", path: "/schemas/ids/1/subjects", status: 200, want: `["other-value","user-topic-value"]`},
		{method: "GET", path: "/schemas/ids/99", status: 404, code: 40403},
		{method: "GET", path: "/schemas/ids/99/versions", status: 404, code: 40403},
		{method: "GET", path: "/schemas/ids/x", status: 404, code: 40403},
		{method: "GET", path: "/subjects", status: 200, want: `["other-value","user-topic-value"]`},
		{method: "GET", path: "/subjects?subjectPrefix=user", status: 200, want: `["user-topic-value"]`},

		// Global and subject configs.
		{method: "PUT", path: "/config", body: `{"compatibility":"FULL"}`, status: 200, want: `{"compatibility":"FULL"}`},
		{method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"FULL"}`},
		{method: "PUT", path: "/config", body: `{"compatibility":"SIDEWAYS"}`, status: 422, code: 42203},
		{method: "PUT", path: "/config", body: `{}`, status: 422, code: 42203},
		{method: "GET", path: "/config/user-topic-value", status: 404, code: 40408},
		{method: "GET", path: "/config/user-topic-value?defaultToGlobal=true", status: 200, want: `{"compatibilityLevel":"FULL"}`},
		{method: "PUT", path: "/config/user-topic-value", body: `{"compatibility":"none"}`, status: 200, want: `{"compatibility":"NONE"}`},
		{method: "GET", path: "/config/user-topic-value", status: 200, want: `{"compatibilityLevel":"NONE"}`},
		{method: "GET", path: "/config/user-topic-value?defaultToGlobal=true", status: 200, want: `{"compatibilityLevel":"NONE"}`},
		{method: "POST", path: "/compatibility" + s + "/versions/latest", body: schemaBody(userEventV3Bad), status: 200, want: `{"is_compatible":true}`},
		{method: "POST", path: s + "/versions", body: schemaBody(userEventV3Bad), status: 200, want: `{"id":3}`},
		{method: "GET", path: s + "/versions/latest", status: 200, want: `{"subject":"user-topic-value","version":3,"id":3,"schema":` + v3 + `}`},
		{method: "DELETE", path: "/config/user-topic-value", status: 200, want: `{"compatibilityLevel":"NONE"}`},
		{method: "DELETE", path: "/config/user-topic-value", status: 404, code: 40408},
		{method: "DELETE", path: "/config/nope", status: 404, code: 40401},
		{method: "DELETE", path: "/config", status: 200, want: `{"compatibilityLevel":"FULL"}`},
		{method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"BACKWARD"}`},

		// Soft and permanent deletes of versions.
		{method: "DELETE", path: s + "/versions/2", status: 200, want: `2`},
		{method: "DELETE", path: s + "/versions/2", status: 404, code: 40406},
		{method: "DELETE", path: s + "/versions/9", status: 404, code: 40402},
		{method: "DELETE", path: s + "/versions/x", status: 422, code: 42202},
		{method: "DELETE", path: "/subjects/nope/versions/1", status: 404, code: 40401},
		{method: "GET", path: s + "/versions", status: 200, want: `[1,3]`},
		{method: "GET", path: s + "/versions?deleted=true", status: 200, want: `[1,2,3]`},
		{method: "GET", path: s + "/versions?deletedOnly=true", status: 200, want: `[2]`},
		{method: "GET", path: s + "/versions/2", status: 404, code: 40402},
		{method: "GET", path: s + "/versions/2?deleted=true", status: 200, want: `{"subject":"user-topic-value","version":2,"id":2,"schema":` + v2 + `}`},
		{method: "GET", path: "/schemas/ids/2", status: 200, want: `{"schema":` + v2 + `}`},
		{method: "GET", path: "/schemas/ids/2/versions", status: 200, want: `[]`},
		{method: "GET", path: "/schemas/ids/2/versions?deleted=true", status: 200, want: `[{"subject":"user-topic-value","version":2}]`},
		{method: "POST", path: s, body: schemaBody(userEventV2), status: 404, code: 40403},
		{method: "POST", path: s + "?deleted=true", body: schemaBody(userEventV2), status: 200, want: `{"subject":"user-topic-value","version":2,"id":2,"schema":` + v2 + `}`},
		{method: "DELETE", path: s + "/versions/1?permanent=true", status: 404, code: 40407},
		{method: "DELETE", path: s + "/versions/2?permanent=true", status: 200, want: `2`},
		{method: "DELETE", path: s + "/versions/2?permanent=true", status: 404, code: 40402},
		{method: "GET", path: s + "/versions/2?deleted=true", status: 404, code: 40402},
		{method: "GET", path: "/schemas/ids/2", status: 404, code: 40403},

		// Soft and permanent deletes of subjects.
		{method: "PUT", path: "/config/user-topic-value", body: `{"compatibility":"FORWARD"}`, status: 200, want: `{"compatibility":"FORWARD"}`},
		{method: "DELETE", path: s + "?permanent=true", status: 404, code: 40405},
		{method: "DELETE", path: s, status: 200, want: `[1,3]`},
		{method: "DELETE", path: s, status: 404, code: 40404},
		{method: "GET", path: "/config/user-topic-value", status: 404, code: 40408},
		{method: "GET", path: "/subjects", status: 200, want: `["other-value"]`},
		{method: "GET", path: "/subjects?deleted=true", status: 200, want: `["other-value","user-topic-value"]`},
		{method: "GET", path: "/subjects?deletedOnly=true", status: 200, want: `["user-topic-value"]`},
		{method: "GET", path: s + "/versions", status: 404, code: 40401},
		{method: "GET", path: s + "/versions/latest", status: 404, code: 40401},
		{method: "GET", path: s + "/versions/1?deleted=true", status: 200, want: `{"subject":"user-topic-value","version":1,"id":1,"schema":` + v1 + `}`},
		{method: "POST", path: s, body: schemaBody(userEventV1), status: 404, code: 40401},
		// Re-registering after a soft delete: same id, version = max (soft-deleted included) + 1.
		{method: "POST", path: s + "/versions", body: schemaBody(userEventV1), status: 200, want: `{"id":1}`},
		{method: "GET", path: s + "/versions", status: 200, want: `[4]`},
		{method: "DELETE", path: s + "/versions/latest", status: 200, want: `4`},
		{method: "DELETE", path: s + "?permanent=true", status: 200, want: `[1,3,4]`},
		{method: "DELETE", path: s, status: 404, code: 40401},
		{method: "GET", path: "/subjects?deleted=true", status: 200, want: `["other-value"]`},
		{method: "GET", path: "/schemas/ids/1/versions?deleted=true", status: 200, want: `[{"subject":"other-value","version":1}]`},
		{method: "GET", path: "/schemas/ids/3", status: 404, code: 40403},
		// Ids keep growing after deletes.
		{method: "POST", path: "/subjects/fresh/versions", body: schemaBody(`"string"`), status: 200, want: `{"id":4}`},
	}
	eachStore(t, func(t *testing.T, url string) { runSteps(t, url, steps) })
}

// TestHTTPErrors covers malformed requests, content types and refused schema types.
func TestHTTPErrors(t *testing.T) {
	const p = "/subjects/x/versions"
	steps := []httpStep{
		{method: "POST", path: p, body: `{"schema":`, status: 400, code: 400},
		{method: "POST", path: p, body: `not json`, status: 400, code: 400},
		{method: "POST", path: p, body: `{"schema":"\"int\""} trailing`, status: 400, code: 400},
		{method: "POST", path: p, body: `{"schema":42}`, status: 422, code: 422},
		{method: "POST", path: p, status: 400, code: 400},
		{method: "POST", path: p, body: schemaBody(`"int"`), ctype: "text/plain", status: 415, code: 415},
		{method: "POST", path: p, body: schemaBody(`"int"`), ctype: "application/x-www-form-urlencoded", status: 415, code: 415},
		{method: "PUT", path: "/config", body: `{"compatibility":"FULL"}`, ctype: "text/xml", status: 415, code: 415},
		{method: "POST", path: p, body: `{"schema":""}`, status: 422, code: 42201},
		{method: "POST", path: p, body: schemaBody(`{"type":"record","name":"R"}`), status: 422, code: 42201},
		{method: "POST", path: p, body: schemaBody(`{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]}`), status: 422, code: 42201, contains: "default"},
		{method: "POST", path: p, body: schemaBody(`{"type":"record","name":"R","fields":[{"name":"a","type":"Missing"}]}`), status: 422, code: 42201, contains: "Missing"},
		// Invalid JSON Schema and Protobuf schemas: 42201 with the parser's message.
		{method: "POST", path: p, body: schemaBody(`{"type":"object"`, `,"schemaType":"JSON"`), status: 422, code: 42201, contains: "parsing json schema"},
		{method: "POST", path: p, body: schemaBody(`{"type":"objekt"}`, `,"schemaType":"JSON"`), status: 422, code: 42201, contains: "at '/type'"},
		{method: "POST", path: p, body: schemaBody(`{"$ref":"other.json"}`, `,"schemaType":"JSON"`), status: 422, code: 42201, contains: "other.json"},
		{method: "POST", path: p, body: schemaBody(`syntax = "proto3"; message M { strin a = 1; }`, `,"schemaType":"PROTOBUF"`), status: 422, code: 42201, contains: "strin"},
		{method: "POST", path: p, body: schemaBody(`syntax = "proto3"; message M { int32 a = 1; int32 b = 1; }`, `,"schemaType":"PROTOBUF"`), status: 422, code: 42201, contains: "same tag 1"},
		{method: "POST", path: p, body: schemaBody(`syntax = "proto3"; import "other.proto"; message M {}`, `,"schemaType":"PROTOBUF"`), status: 422, code: 42201, contains: "other.proto"},
		{method: "POST", path: p, body: schemaBody(`"int"`, `,"schemaType":"XML"`), status: 422, code: 42201},
		{method: "POST", path: "/subjects/x", body: schemaBody(`{"type":7}`, `,"schemaType":"JSON"`), status: 422, code: 42201},
		{method: "POST", path: "/compatibility/subjects/x/versions/latest", body: schemaBody(`message M {`, `,"schemaType":"PROTOBUF"`), status: 422, code: 42201},
		{method: "POST", path: p, body: schemaBody(`"int"`, `,"references":[{"name":"Other","subject":"missing","version":1}]`), status: 422, code: 42201, contains: "missing"},
		{method: "GET", path: "/no/such/endpoint", status: 404, code: 404},
		{method: "PATCH", path: "/config", body: `{}`, status: 405, code: 405, contains: "GET, PUT, DELETE"},
		{method: "POST", path: "/schemas/ids/1", body: `{}`, status: 405, code: 405},
		{method: "GET", path: "/compatibility/subjects/x/versions/latest", status: 405, code: 405},
		// Every accepted content type, with or without parameters.
		{method: "POST", path: p, body: schemaBody(`"int"`), ctype: "application/json", status: 200, want: `{"id":1}`},
		{method: "POST", path: p, body: schemaBody(`"int"`), ctype: "application/vnd.schemaregistry+json", status: 200, want: `{"id":1}`},
		{method: "POST", path: p, body: schemaBody(`"int"`), ctype: "application/octet-stream", status: 200, want: `{"id":1}`},
		{method: "POST", path: p, body: schemaBody(`"int"`), ctype: "application/json; charset=utf-8", status: 200, want: `{"id":1}`},
		{method: "POST", path: p, body: schemaBody(`"int"`, `,"metadata":{"properties":{"a":"b"}}`), status: 200, want: `{"id":1}`},
	}
	eachStore(t, func(t *testing.T, url string) { runSteps(t, url, steps) })
}

// TestAllCompatibilityLevels sets and reads back each of the seven levels,
// globally and per subject, case-insensitively.
func TestAllCompatibilityLevels(t *testing.T) {
	var steps []httpStep
	for _, l := range []string{"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"} {
		steps = append(steps,
			httpStep{method: "PUT", path: "/config", body: `{"compatibility":"` + strings.ToLower(l) + `"}`, status: 200, want: `{"compatibility":"` + l + `"}`},
			httpStep{method: "GET", path: "/config", status: 200, want: `{"compatibilityLevel":"` + l + `"}`},
			httpStep{method: "PUT", path: "/config/s", body: `{"compatibility":"` + l + `"}`, status: 200, want: `{"compatibility":"` + l + `"}`},
			httpStep{method: "GET", path: "/config/s", status: 200, want: `{"compatibilityLevel":"` + l + `"}`},
		)
	}
	eachStore(t, func(t *testing.T, url string) { runSteps(t, url, steps) })
}
