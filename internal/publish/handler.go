package publish

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/codecs"
)

// bodyReadTimeout bounds the reading of a request body (or the route's
// timeout, when longer).
const bodyReadTimeout = 30 * time.Second

// route serves one Route.
type route struct {
	Route
	g          *Gateway
	codec      *codecs.Avro
	schemaName string
}

// Position is where the broker wrote one record.
type Position struct {
	Partition int32 `json:"partition"`
	Offset    int64 `json:"offset"`
}

// okBody is the answer to a request whose records the broker acknowledged,
// in request order.
type okBody struct {
	Records []Position `json:"records"`
}

// errorBody is the answer to a request that produced nothing (or, for a
// 503, perhaps not everything: Acknowledged counts what the broker took).
type errorBody struct {
	Error        string        `json:"error"`
	Errors       []recordError `json:"errors,omitempty"`
	Acknowledged *int          `json:"acknowledged,omitempty"`
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	code, n := rt.serve(w, r)
	m := rt.g.metrics
	m.requests.WithLabelValues(rt.Path, strconv.Itoa(code)).Inc()
	if n > 0 {
		m.records.WithLabelValues(rt.Path).Add(float64(n))
	}
	m.duration.WithLabelValues(rt.Path).Observe(time.Since(start).Seconds())
}

// serve answers one request and returns its status code and the number of
// records the broker acknowledged.
func (rt *route) serve(w http.ResponseWriter, r *http.Request) (code, produced int) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: POST records to "+rt.Path)
	}
	if code, msg := rt.authorize(w, r); code != 0 {
		return fail(w, code, msg)
	}
	// A body that trickles in must not hold the request forever.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(max(bodyReadTimeout, rt.Timeout)))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, rt.MaxBodyBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return fail(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", rt.MaxBodyBytes))
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fail(w, http.StatusRequestTimeout, "the request body did not arrive in time")
		}
		return fail(w, http.StatusBadRequest, "reading the request body: "+err.Error())
	}
	values, errs := parseRecords(bodyFormat(r.Header.Get("Content-Type")), body)
	if errs != nil {
		return writeJSON(w, http.StatusBadRequest, errorBody{Error: errMalformed.Error() + "; nothing was produced", Errors: errs}), 0
	}
	pending, errs := rt.records(values)
	if errs != nil {
		msg := fmt.Sprintf("%d of %d records do not match schema %s; nothing was produced", countIndexes(errs), len(values), rt.schemaName)
		return writeJSON(w, http.StatusUnprocessableEntity, errorBody{Error: msg, Errors: errs}), 0
	}
	ctx, cancel := context.WithTimeout(r.Context(), rt.Timeout)
	defer cancel()
	// Encode everything before producing anything: a registry that does
	// not answer must not leave half a request in the topic.
	records := make([]*kgo.Record, len(pending))
	for i, p := range pending {
		value, err := rt.codec.EncodeContext(ctx, p.value)
		if err != nil {
			if codecs.IsUnavailable(err) {
				rt.g.log.Warn("publish: schema registry unavailable", "route", rt.Path, "error", err)
				return unavailable(w, "schema registry unavailable: "+err.Error(), nil), 0
			}
			path, problem := codecs.FieldPath(err)
			return writeJSON(w, http.StatusUnprocessableEntity, errorBody{
				Error:  "a record cannot be encoded; nothing was produced",
				Errors: []recordError{{Index: i, Field: path, Error: problem}},
			}), 0
		}
		records[i] = &kgo.Record{Topic: rt.Topic, Key: p.key, Value: value}
	}
	return rt.produce(ctx, w, records)
}

// authorize checks the bearer token when the route has one: 401 without
// one, 403 with another.
func (rt *route) authorize(w http.ResponseWriter, r *http.Request) (int, string) {
	if rt.BearerToken == "" {
		return 0, ""
	}
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sluice"`)
		return http.StatusUnauthorized, "this route needs Authorization: Bearer <token>"
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(rt.BearerToken)) != 1 {
		return http.StatusForbidden, "the bearer token is not this route's"
	}
	return 0, ""
}

// pendingRecord is a record checked against the schema, not yet encoded.
type pendingRecord struct {
	key   []byte
	value map[string]any // canonical
}

// records checks every value against the schema and returns the records to
// produce, or every problem found.
func (rt *route) records(values []any) ([]pendingRecord, []recordError) {
	var errs []recordError
	out := make([]pendingRecord, 0, len(values))
	for i, v := range values {
		if _, ok := v.(map[string]any); !ok {
			errs = append(errs, recordError{Index: i, Error: fmt.Sprintf("a record is a JSON object, not %s", jsonKind(v))})
			continue
		}
		canon, err := codecs.CoerceStrict(rt.Schema, v)
		if err != nil {
			path, problem := codecs.FieldPath(err)
			errs = append(errs, recordError{Index: i, Field: path, Error: problem})
			continue
		}
		m := canon.(map[string]any)
		out = append(out, pendingRecord{key: keyOf(m, rt.KeyField), value: m})
	}
	return out, errs
}

// keyOf renders the key field of a canonical record: a string as is, null
// as no key, anything else as its JSON text.
func keyOf(m map[string]any, field string) []byte {
	if field == "" {
		return nil
	}
	switch v := m[field].(type) {
	case nil:
		return nil
	case string:
		return []byte(v)
	case []byte:
		return v
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return []byte(fmt.Sprint(v))
		}
		return b
	}
}

// produce sends the records and waits, within ctx, until the broker
// acknowledged each.
func (rt *route) produce(ctx context.Context, w http.ResponseWriter, records []*kgo.Record) (int, int) {
	type result struct {
		i   int
		rec *kgo.Record
		err error
	}
	// Buffered for every record: a promise that runs after this request
	// was answered (timed out) never blocks the producer.
	results := make(chan result, len(records))
	for i, rec := range records {
		rt.g.cl.Produce(ctx, rec, func(rec *kgo.Record, err error) { results <- result{i, rec, err} })
	}
	positions := make([]Position, len(records))
	acked := 0
	var firstErr error
	for range records {
		select {
		case res := <-results:
			if res.err != nil {
				if firstErr == nil {
					firstErr = res.err
				}
				continue
			}
			positions[res.i] = Position{Partition: res.rec.Partition, Offset: res.rec.Offset}
			acked++
		case <-ctx.Done():
			// The producer may hold records it already sent past ctx:
			// do not wait for them longer than the route allows.
			firstErr = fmt.Errorf("no acknowledgement within %s: %w", rt.Timeout, ctx.Err())
		}
		if firstErr != nil && ctx.Err() != nil {
			break
		}
	}
	if firstErr == nil {
		return writeJSON(w, http.StatusOK, okBody{Records: positions}), acked
	}
	if errors.Is(firstErr, kerr.MessageTooLarge) {
		return writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: "the broker refused a record as too large: " + firstErr.Error(), Acknowledged: &acked}), acked
	}
	rt.g.log.Warn("publish: broker unavailable", "route", rt.Path, "topic", rt.Topic, "acknowledged", acked, "records", len(records), "error", firstErr)
	return unavailable(w, fmt.Sprintf("Kafka did not acknowledge the records (%d of %d acknowledged): %v", acked, len(records), firstErr), &acked), acked
}

func unavailable(w http.ResponseWriter, msg string, acked *int) int {
	w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter/time.Second)))
	return writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: msg, Acknowledged: acked})
}

func fail(w http.ResponseWriter, code int, msg string) (int, int) {
	return writeJSON(w, code, errorBody{Error: msg}), 0
}

func writeJSON(w http.ResponseWriter, code int, v any) int {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
	return code
}

func countIndexes(errs []recordError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		seen[e.Index] = true
	}
	return len(seen)
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
