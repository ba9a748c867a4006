package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// Body formats a request may have.
const (
	formatSniff  = iota // no or another content type: one value is JSON, several NDJSON
	formatJSON          // application/json: one object or one array of objects
	formatNDJSON        // application/x-ndjson: one object a line
)

// bodyFormat reads the format from a Content-Type header.
func bodyFormat(contentType string) int {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return formatSniff
	}
	switch {
	case mt == "application/x-ndjson", mt == "application/ndjson", mt == "application/jsonl", mt == "application/x-jsonlines":
		return formatNDJSON
	case mt == "application/json", strings.HasSuffix(mt, "+json"):
		return formatJSON
	}
	return formatSniff
}

// recordError is one problem of a request, at a record (Index, from 0) and
// a field of it (Field, a dotted path, empty for the record itself).
type recordError struct {
	Index int    `json:"index"`
	Field string `json:"field,omitempty"`
	Error string `json:"error"`
}

// errMalformed marks a body that is not JSON of the expected shape (400);
// its recordErrors say where.
var errMalformed = errors.New("malformed request body")

// parseRecords returns the JSON values of a body (numbers kept exact as
// json.Number): one object, the items of an array, or a sequence of
// objects (NDJSON). Each is a record, checked against the schema later.
func parseRecords(format int, body []byte) ([]any, []recordError) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var values []any
	for {
		var v any
		err := dec.Decode(&v)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, []recordError{{Index: len(values), Error: fmt.Sprintf("invalid JSON at line %d: %v", lineAt(body, dec.InputOffset()), err)}}
		}
		values = append(values, v)
		if format == formatJSON && len(values) > 1 {
			return nil, []recordError{{Index: 0, Error: fmt.Sprintf("invalid JSON at line %d: more than one value (send NDJSON as application/x-ndjson)", lineAt(body, dec.InputOffset()))}}
		}
	}
	switch {
	case len(values) == 0:
		return nil, []recordError{{Index: 0, Error: "no records: the body is empty"}}
	case len(values) == 1 && format != formatNDJSON:
		if items, ok := values[0].([]any); ok {
			if len(items) == 0 {
				return nil, []recordError{{Index: 0, Error: "no records: the array is empty"}}
			}
			return items, nil
		}
	}
	return values, nil
}

// lineAt is the line (from 1) of the first value at or after byte offset
// off of body (a decoder's offset is the end of the last value it read).
func lineAt(body []byte, off int64) int {
	i := min(int(off), len(body))
	for i < len(body) && strings.IndexByte(" \t\r\n", body[i]) >= 0 {
		i++
	}
	if i == len(body) && i > 0 && body[i-1] == '\n' {
		i-- // an error at the end is on the last line
	}
	return bytes.Count(body[:i], []byte{'\n'}) + 1
}
