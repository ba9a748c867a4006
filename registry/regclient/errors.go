package regclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/twmb/franz-go/pkg/sr"

	"github.com/sluicehq/sluice/internal/bounded"
	"github.com/sluicehq/sluice/internal/redact"
)

// The registry's not-found error codes (Confluent's REST contract).
const (
	CodeSubjectNotFound = 40401
	CodeVersionNotFound = 40402
	CodeSchemaNotFound  = 40403
)

// Bounds of Error.Message: a registry's own message (a 409 can carry whole
// schemas) and a snippet of a body that is not a registry error (an HTML page).
const (
	maxMessage = 2048
	maxSnippet = 200
)

// Error is a registry's non-2xx answer.
type Error struct {
	Method string // GET, POST
	URL    string // the request URL, without userinfo
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the registry's error_code from a registry JSON error body
	// (40403, 409, 50001...), 0 when the body is not one (a proxy's 404 page,
	// a gateway's 502).
	Code int
	// Message is the registry's message, or a short snippet of a body that is
	// not a registry error; both bounded.
	Message string
}

func (e *Error) Error() string {
	status := fmt.Sprintf("%d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != 0 {
		return fmt.Sprintf("schema registry %s %s: %s, error code %d: %s", e.Method, e.URL, strings.TrimSpace(status), e.Code, e.Message)
	}
	return fmt.Sprintf("schema registry %s %s: %s (not a registry error answer): %s", e.Method, e.URL, strings.TrimSpace(status), e.Message)
}

// IsNotFound reports whether err is the registry saying that a subject, a
// version or a schema does not exist: a 404 whose registry JSON body carries
// code 40401, 40402 or 40403. Any other failure (a bare 404 from a wrong URL
// path, an HTML page, 401/403, 5xx, a transport error, a timeout, a
// cancelled context) is not.
func IsNotFound(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusNotFound {
		return false
	}
	switch e.Code {
	case CodeSubjectNotFound, CodeVersionNotFound, CodeSchemaNotFound:
		return true
	}
	return false
}

// IsAuthFailure reports whether err is the registry refusing the request's
// credentials: a 401 (no or wrong credentials) or a 403 (credentials that may
// not do this). Like every failure but IsNotFound, it says nothing about the
// data asked for.
func IsAuthFailure(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.StatusCode == http.StatusUnauthorized || e.StatusCode == http.StatusForbidden)
}

// fail turns an error of pkg/sr into this package's: *Error for an answer,
// a wrapped error naming the request for anything else.
func (c *Client) fail(err error) error {
	var re *sr.ResponseError
	if errors.As(err, &re) {
		return answerError(re)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		// net/http's own error; sr's wrapping repeats the URL around it.
		return fmt.Errorf("schema registry %s %s: %w", strings.ToUpper(ue.Op), redact.URL(ue.URL), ue.Err)
	}
	return fmt.Errorf("schema registry %s: %w", c.url, err)
}

// notRegistry is the error of a 2xx answer that lacks what every registry
// sends: the URL points at something else.
func (c *Client) notRegistry(path, what string) error {
	return fmt.Errorf("schema registry %s%s: the answer has %s: is this a schema registry?", c.url, path, what)
}

func answerError(re *sr.ResponseError) *Error {
	e := &Error{Method: re.Method, URL: redact.URL(re.URL), StatusCode: re.StatusCode}
	var body struct {
		Code    *int   `json:"error_code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(re.Raw, &body) == nil && body.Code != nil {
		e.Code = *body.Code
		e.Message = bound(body.Message, maxMessage)
		return e
	}
	e.Message = bound(strings.Join(strings.Fields(string(re.Raw)), " "), maxSnippet)
	if e.Message == "" {
		e.Message = "empty body"
	}
	return e
}

// bound makes s valid UTF-8 and cuts it to at most n bytes on a rune
// boundary, marking the cut.
func bound(s string, n int) string {
	return bounded.Text(strings.ToValidUTF8(s, "\uFFFD"), n)
}
