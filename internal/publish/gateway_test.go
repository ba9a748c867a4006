package publish_test

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/internal/kafkaconn"
	"github.com/sluicehq/sluice/internal/publish"
	"github.com/sluicehq/sluice/internal/testkit"
)

// TestPublishLandsInTheTopic: a single object, an array and NDJSON (typed
// and sniffed) are answered 200 with one position per record, and each
// record is in the topic at that position with its user_id as key, the
// registered schema id and the values sent.
func TestPublishLandsInTheTopic(t *testing.T) {
	f := newFixture(t, nil)
	requests := []struct {
		name, contentType, body string
		users                   []string
	}{
		{"single object", "application/json",
			`{"user_id":"u1","event_type":"purchase","amount":12.5,"ts":1700000000000,"country":"FR"}`, []string{"u1"}},
		{"array", "application/json; charset=utf-8",
			`[{"user_id":"u2","event_type":"login","amount":0,"ts":1700000001000},
			  {"user_id":"u3","event_type":"purchase","amount":99.99,"ts":1700000002000,"country":null}]`, []string{"u2", "u3"}},
		{"ndjson", "application/x-ndjson",
			"{\"user_id\":\"u4\",\"event_type\":\"click\",\"amount\":1,\"ts\":1700000003000}\n" +
				"{\"user_id\":\"u4\",\"event_type\":\"purchase\",\"amount\":2,\"ts\":1700000004000}\n", []string{"u4", "u4"}},
		{"ndjson sniffed", "",
			"{\"user_id\":\"u5\",\"event_type\":\"click\",\"amount\":3,\"ts\":1700000005000}\n" +
				"{\"user_id\":\"u6\",\"event_type\":\"click\",\"amount\":4,\"ts\":1700000006000}", []string{"u5", "u6"}},
	}
	type sent struct {
		user      string
		partition int32
		offset    int64
	}
	var want []sent
	for _, rq := range requests {
		r := post(t, f.url+"/publish/user-events", rq.contentType, rq.body)
		if r.code != 200 {
			t.Fatalf("%s: %d %s", rq.name, r.code, r.body)
		}
		ok := decodeJSON[okAnswer](t, r)
		if len(ok.Records) != len(rq.users) {
			t.Fatalf("%s: %d positions for %d records: %s", rq.name, len(ok.Records), len(rq.users), r.body)
		}
		for i, p := range ok.Records {
			want = append(want, sent{rq.users[i], p.Partition, p.Offset})
		}
	}

	subject := codecs.Subject(codecs.TopicNameStrategy, f.topic, false, f.schema)
	text, err := json.Marshal(f.schema)
	if err != nil {
		t.Fatal(err)
	}
	id, _, err := f.registry.Lookup(t.Context(), subject, string(text))
	if err != nil {
		t.Fatalf("the schema is not registered under %s: %v", subject, err)
	}
	dec, err := codecs.NewAvro(f.registry, codecs.NewSchemas(), f.schema)
	if err != nil {
		t.Fatal(err)
	}
	records := testkit.ReadToEnd(t, f.brokers, f.topic)
	if len(records) != len(want) {
		t.Fatalf("topic holds %d records, want %d", len(records), len(want))
	}
	at := map[[2]int64]map[string]any{}
	keys := map[[2]int64]string{}
	for _, rec := range records {
		if got, ok := codecs.FrameSchemaID(rec.Value); !ok || got != id {
			t.Errorf("record at %d/%d has schema id %d (%v), want %d", rec.Partition, rec.Offset, got, ok, id)
		}
		v, err := dec.Decode(rec.Value)
		if err != nil {
			t.Fatalf("decoding record at %d/%d: %v", rec.Partition, rec.Offset, err)
		}
		pos := [2]int64{int64(rec.Partition), rec.Offset}
		at[pos], keys[pos] = v.(map[string]any), string(rec.Key)
	}
	for _, w := range want {
		pos := [2]int64{int64(w.partition), w.offset}
		v, ok := at[pos]
		if !ok {
			t.Errorf("no record at the answered position %d/%d", w.partition, w.offset)
			continue
		}
		if keys[pos] != w.user || v["user_id"] != w.user {
			t.Errorf("record at %d/%d: key %q, user_id %v, want %s", w.partition, w.offset, keys[pos], v["user_id"], w.user)
		}
	}
	first := at[[2]int64{int64(want[0].partition), want[0].offset}]
	if first["event_type"] != "purchase" || first["amount"] != 12.5 || first["country"] != "FR" {
		t.Errorf("first record decodes to %v", first)
	}
	if ts, ok := first["ts"].(time.Time); !ok || ts.UnixMilli() != 1700000000000 {
		t.Errorf("first record's ts is %v (%T)", first["ts"], first["ts"])
	}
	if got := counter(t, f.gw, "sluice_publish_requests_total", "code", "200"); got != 4 {
		t.Errorf("sluice_publish_requests_total{code=200} is %v, want 4", got)
	}
	if got := counter(t, f.gw, "sluice_publish_records_total", "", ""); got != 7 {
		t.Errorf("sluice_publish_records_total is %v, want 7", got)
	}
}

// counter sums the samples of a counter of gw whose label has value (all
// samples when label is empty).
func counter(t *testing.T, gw *publish.Gateway, name, label, value string) float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(gw.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, fam := range families {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					match = true
				}
			}
			if match {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestPublishRefusesInvalidRequests: each kind of bad request gets its
// status and a JSON error naming the record index and field path, and
// nothing of any of them reaches the topic.
func TestPublishRefusesInvalidRequests(t *testing.T) {
	f := newFixture(t, func(r *publish.Route) { r.MaxBodyBytes = 4096 })
	type wantErr struct {
		index int
		field string
		says  string
	}
	valid := `{"user_id":"ok","event_type":"click","amount":1,"ts":1700000000000}`
	cases := []struct {
		name, method, path, contentType, body string
		code                                  int
		errs                                  []wantErr
	}{
		{"malformed JSON", "POST", "/publish/user-events", "application/json", `{"user_id":"u1",`, 400,
			[]wantErr{{0, "", "invalid JSON"}}},
		{"malformed NDJSON line", "POST", "/publish/user-events", "application/x-ndjson", valid + "\n{nope}\n", 400,
			[]wantErr{{1, "", "line 2"}}},
		{"two values as application/json", "POST", "/publish/user-events", "application/json", valid + valid, 400,
			[]wantErr{{0, "", "more than one value"}}},
		{"empty body", "POST", "/publish/user-events", "application/json", "", 400,
			[]wantErr{{0, "", "no records"}}},
		{"empty array", "POST", "/publish/user-events", "application/json", "[]", 400,
			[]wantErr{{0, "", "no records"}}},
		{"unknown field", "POST", "/publish/user-events", "application/json",
			`{"user_id":"u1","event_type":"click","amount":1,"ts":1700000000000,"countyr":"FR"}`, 422,
			[]wantErr{{0, "countyr", "not in record"}}},
		{"missing required field", "POST", "/publish/user-events", "application/json",
			`{"user_id":"u1","event_type":"click","ts":1700000000000}`, 422,
			[]wantErr{{0, "amount", "missing"}}},
		{"wrong type", "POST", "/publish/user-events", "application/json",
			`{"user_id":"u1","event_type":"click","amount":"lots","ts":1700000000000}`, 422,
			[]wantErr{{0, "amount", ""}}},
		{"not an object", "POST", "/publish/user-events", "application/json", `[` + valid + `, 42]`, 422,
			[]wantErr{{1, "", "JSON object"}}},
		{"invalid records among valid ones", "POST", "/publish/user-events", "application/x-ndjson",
			valid + "\n" + `{"user_id":"u2","event_type":"click","amount":true,"ts":1700000000000}` + "\n" + valid + "\n" +
				`{"user_id":"u4","event_type":"click","amount":1,"ts":"yesterday"}` + "\n", 422,
			[]wantErr{{1, "amount", ""}, {3, "ts", ""}}},
		{"body over the limit", "POST", "/publish/user-events", "application/x-ndjson",
			strings.Repeat(valid+"\n", 4096/len(valid)+1), 413, nil},
		{"wrong method", "GET", "/publish/user-events", "", "", 405, nil},
		{"unknown route", "POST", "/publish/nothing-here", "application/json", valid, 404, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := request(t, c.method, f.url+c.path, c.contentType, c.body)
			if r.code != c.code {
				t.Fatalf("%d %s, want %d", r.code, r.body, c.code)
			}
			ans := decodeJSON[errAnswer](t, r)
			if ans.Error == "" {
				t.Errorf("no error message: %s", r.body)
			}
			if c.code == 405 && r.header.Get("Allow") != "POST" {
				t.Errorf("405 with Allow %q", r.header.Get("Allow"))
			}
			if len(ans.Errors) != len(c.errs) {
				t.Fatalf("%d errors, want %d: %s", len(ans.Errors), len(c.errs), r.body)
			}
			for i, w := range c.errs {
				got := ans.Errors[i]
				if got.Index != w.index || got.Field != w.field || !strings.Contains(got.Error, w.says) || got.Error == "" {
					t.Errorf("error %d is %+v, want index %d, field %q, saying %q", i, got, w.index, w.field, w.says)
				}
			}
		})
	}
	if n := testkit.TopicSize(t, f.brokers, f.topic); n != 0 {
		t.Errorf("refused requests left %d records in the topic", n)
	}
}

// TestPublishBearerToken: a route with a token answers 401 without one, 403
// to another and 200 to its own.
func TestPublishBearerToken(t *testing.T) {
	const token = "s3cret-token"
	f := newFixture(t, func(r *publish.Route) { r.BearerToken = token })
	body := `{"user_id":"u1","event_type":"click","amount":1,"ts":1700000000000}`
	url := f.url + "/publish/user-events"
	r := post(t, url, "application/json", body)
	if r.code != 401 || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d (WWW-Authenticate %q) %s", r.code, r.header.Get("WWW-Authenticate"), r.body)
	}
	if r := post(t, url, "application/json", body, "Authorization: Basic dTpw"); r.code != 401 {
		t.Errorf("basic auth: %d %s", r.code, r.body)
	}
	if r := post(t, url, "application/json", body, "Authorization: Bearer s3cret-tokeN"); r.code != 403 {
		t.Errorf("wrong token: %d %s", r.code, r.body)
	}
	if n := testkit.TopicSize(t, f.brokers, f.topic); n != 0 {
		t.Errorf("refused requests left %d records in the topic", n)
	}
	if r := post(t, url, "application/json", body, "Authorization: Bearer "+token); r.code != 200 {
		t.Errorf("right token: %d %s", r.code, r.body)
	}
}

// TestPublishBrokerStopped: once the broker is gone, a request is answered
// 503 with Retry-After within the route's timeout. It stops a broker, so it
// runs on an embedded one even when $SLUICE_TEST_BROKERS is set.
func TestPublishBrokerStopped(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	brokers := cluster.ListenAddrs()
	conn := kafkaconn.Config{Brokers: brokers} // kfake speaks plain text
	topic := testkit.Unique("publish")
	testkit.CreateTopicWith(t, conn, topic, 1)
	_, reg := newRegistry(t)
	route := userEventsRoute(userEventSchemaParsed(t), topic)
	route.Timeout = time.Second
	gw := startGateway(t, conn, reg, route)
	srv := httptest.NewServer(gw.Handler())
	defer srv.Close()

	body := `{"user_id":"u1","event_type":"click","amount":1,"ts":1700000000000}`
	if r := post(t, srv.URL+"/publish/user-events", "application/json", body); r.code != 200 {
		t.Fatalf("broker up: %d %s", r.code, r.body)
	}
	cluster.Close()
	r := post(t, srv.URL+"/publish/user-events", "application/json", body)
	if r.code != 503 {
		t.Fatalf("broker stopped: %d %s, want 503", r.code, r.body)
	}
	if got := r.header.Get("Retry-After"); got != fmt.Sprint(int(publish.RetryAfter/time.Second)) {
		t.Errorf("Retry-After %q", got)
	}
	ans := decodeJSON[errAnswer](t, r)
	if ans.Acknowledged == nil || *ans.Acknowledged != 0 || !strings.Contains(ans.Error, "did not acknowledge") {
		t.Errorf("503 body %s", r.body)
	}
}

// TestPublishRegistryDown: a registry that does not answer is a 503 too,
// and nothing is produced.
func TestPublishRegistryDown(t *testing.T) {
	brokers := testkit.Brokers(t)
	conn := testkit.Kafka(brokers)
	topic := testkit.Unique("publish")
	testkit.CreateTopicWith(t, conn, topic, 1)
	regSrv, reg := newRegistry(t)
	regSrv.Close()
	route := userEventsRoute(userEventSchemaParsed(t), topic)
	route.Timeout = 2 * time.Second
	gw := startGateway(t, conn, reg, route)
	srv := httptest.NewServer(gw.Handler())
	defer srv.Close()
	r := post(t, srv.URL+"/publish/user-events", "application/json", `{"user_id":"u1","event_type":"click","amount":1,"ts":1700000000000}`)
	if r.code != 503 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "schema registry") {
		t.Errorf("registry down: %d (Retry-After %q) %s", r.code, r.header.Get("Retry-After"), r.body)
	}
	if n := testkit.TopicSize(t, brokers, topic); n != 0 {
		t.Errorf("%d records produced without the registry", n)
	}
}

// TestPublishOnSecuredCluster: the gateway connects as its kafkaconn.Config
// says, here SCRAM-SHA-512 over TLS with a private CA (SASL_SSL), and a
// wrong password is a 503, not a hang.
func TestPublishOnSecuredCluster(t *testing.T) {
	conn := testkit.SecureBroker(t, true, kafkaconn.SASL{Mechanism: kafkaconn.ScramSHA512, Username: "sluice", Password: "k4fka-Pa55"})
	topic := testkit.Unique("publish")
	testkit.CreateTopicWith(t, conn, topic, 2)
	_, reg := newRegistry(t)
	schema := userEventSchemaParsed(t)
	body := `{"user_id":"u1","event_type":"click","amount":1,"ts":1700000000000}`

	route := userEventsRoute(schema, topic)
	route.Path = "/publish/right"
	right := httptest.NewServer(startGateway(t, conn, reg, route).Handler())
	defer right.Close()
	if r := post(t, right.URL+route.Path, "application/json", body); r.code != 200 {
		t.Errorf("SASL_SSL with the right password: %d %s", r.code, r.body)
	}

	wrongConn := conn
	wrongConn.SASL.Password = "wr0ng"
	route.Path, route.Timeout = "/publish/wrong", 2*time.Second
	wrong := httptest.NewServer(startGateway(t, wrongConn, reg, route).Handler())
	defer wrong.Close()
	if r := post(t, wrong.URL+route.Path, "application/json", body); r.code != 503 {
		t.Errorf("SASL_SSL with a wrong password: %d %s, want 503", r.code, r.body)
	}
	adm, err := conn.NewAdmin()
	if err != nil {
		t.Fatal(err)
	}
	defer adm.Close()
	ends, err := adm.ListEndOffsets(t.Context(), topic)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != 1 {
		t.Errorf("the topic holds %d records, want the 1 produced with the right password", total)
	}
}
