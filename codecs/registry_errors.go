package codecs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/riferrei/srclient"
)

// registryError classifies an error from a srclient call as poison or transient.
//
// srclient v0.7.2 reports a non-2xx answer as srclient.Error (a value, with the registry's
// error_code) when the body is JSON, else as a plain error whose text is the HTTP status
// ("404 Not Found"); transport failures come from net/http as *url.Error; its in-memory
// MockSchemaRegistryClient reports an unknown id as *url.Error wrapping "schema not found".
//
// Poison: any 404 (40403 schema not found and its kin) and the mock's "not found".
// Transient: transport errors, timeouts, 5xx, and everything else (401/403/429...), because
// those say nothing about the message and may heal.
func registryError(op string, id int, err error) error {
	if IsNotFound(err) {
		return poison(op, id, fmt.Errorf("schema registry: %w", err))
	}
	return transient(op, id, fmt.Errorf("schema registry: %w", err))
}

// IsNotFound reports whether err, from a srclient call, is the registry
// saying that a subject, version or schema does not exist (a 404 answer, or
// srclient's mock saying "not found"), as opposed to a failure to ask.
func IsNotFound(err error) bool {
	var se srclient.Error
	if errors.As(err, &se) {
		return se.Code/100 == 404 || se.Code == 404
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		if errors.As(ue.Err, &ne) || errors.Is(ue.Err, context.DeadlineExceeded) || errors.Is(ue.Err, context.Canceled) {
			return false
		}
		return strings.HasSuffix(ue.Err.Error(), "not found") // srclient's mock
	}
	// srclient's fallback for a non-JSON error body: the bare HTTP status.
	for u := errors.Unwrap(err); u != nil; u = errors.Unwrap(err) {
		err = u
	}
	msg := err.Error()
	if len(msg) >= 3 {
		if code, convErr := strconv.Atoi(msg[:3]); convErr == nil && (len(msg) == 3 || msg[3] == ' ') {
			return code == 404
		}
	}
	return false
}
