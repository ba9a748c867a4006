package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluicehq/sluice/internal/bounded"
)

// Error codes of the Confluent Schema Registry REST contract.
const (
	codeSubjectNotFound           = 40401
	codeVersionNotFound           = 40402
	codeSchemaNotFound            = 40403
	codeSubjectSoftDeleted        = 40404
	codeSubjectNotSoftDeleted     = 40405
	codeVersionSoftDeleted        = 40406
	codeVersionNotSoftDeleted     = 40407
	codeSubjectLevelNotConfigured = 40408
	codeIncompatibleSchema        = 409
	codeInvalidSchema             = 42201
	codeInvalidVersion            = 42202
	codeInvalidCompatibility      = 42203
	codeReferenceExists           = 42206
	codeStoreError                = 50001
	codeStoreTimeout              = 50002
)

// apiError is an error the HTTP layer renders as {"error_code","message"}.
type apiError struct {
	status  int
	code    int
	message string
	cause   error
}

func (e *apiError) Error() string { return e.message }
func (e *apiError) Unwrap() error { return e.cause }

// Bounds on what an error message repeats: each string or error argument (a
// subject, a schema type, a parser message quoting the schema) is clipped to
// maxEchoBytes and the whole message to maxMessageBytes, so that an error
// answer never echoes megabytes of a request.
const (
	maxEchoBytes    = 256
	maxMessageBytes = 8 << 10
)

// newAPIError formats an error message, clipping every string and error
// argument to maxEchoBytes (see clip).
func newAPIError(status, code int, format string, args ...any) *apiError {
	clipped := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			clipped[i] = clip(v)
		case error:
			clipped[i] = clip(v.Error())
		default:
			clipped[i] = a
		}
	}
	return &apiError{status: status, code: code, message: bounded.Text(fmt.Sprintf(format, clipped...), maxMessageBytes)}
}

// clip shortens client input repeated in a message to maxEchoBytes.
func clip(s string) string { return bounded.Text(s, maxEchoBytes) }

// errIncompatible lists why a schema cannot be registered under subject; each
// message is clipped already, the list as a whole to maxMessageBytes.
func errIncompatible(subject string, msgs []string) *apiError {
	return &apiError{status: http.StatusConflict, code: codeIncompatibleSchema, message: bounded.Text(fmt.Sprintf(
		"Schema being registered is incompatible with an earlier schema for subject '%s', details: [%s]",
		clip(subject), strings.Join(msgs, "; ")), maxMessageBytes)}
}

func errSubjectNotFound(subject string) *apiError {
	return newAPIError(http.StatusNotFound, codeSubjectNotFound, "Subject '%s' not found.", subject)
}

func errVersionNotFound(subject string, version int) *apiError {
	return newAPIError(http.StatusNotFound, codeVersionNotFound, "Version %d not found for subject '%s'.", version, subject)
}

func errSchemaNotFound(format string, args ...any) *apiError {
	return newAPIError(http.StatusNotFound, codeSchemaNotFound, format, args...)
}

func errInvalidSchema(format string, args ...any) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeInvalidSchema, format, args...)
}

func errInvalidVersion(v string) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeInvalidVersion,
		"The specified version '%s' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\"", v)
}

func errInvalidCompatibility(level string) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeInvalidCompatibility,
		"Invalid compatibility level %q. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive", level)
}

// errReferenced refuses to delete a version other schemas reference.
func errReferenced(subject string, version int, ids []int) *apiError {
	return newAPIError(http.StatusUnprocessableEntity, codeReferenceExists,
		"One or more references exist to the schema {subject=%s,version=%d}: referenced by schema ids %v; delete those first", subject, version, ids)
}

func errBadRequest(format string, args ...any) *apiError {
	return newAPIError(http.StatusBadRequest, http.StatusBadRequest, format, args...)
}

// storeError turns a failed store write into a 500 (50002 when it timed out).
func storeError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	e := newAPIError(http.StatusInternalServerError, codeStoreError, "Error in the backend data store: %v", err)
	if errors.Is(err, context.DeadlineExceeded) {
		e = newAPIError(http.StatusInternalServerError, codeStoreTimeout, "Operation timed out in the backend data store: %v", err)
	}
	e.cause = err
	return e
}
