package codecs

import (
	"errors"
	"fmt"
)

// ErrPoison marks a message that will never encode or decode, however often it is retried:
// a frame shorter than 5 bytes, a magic byte other than 0, a schema id the registry does not
// know, a corrupt, truncated or over-long payload, a writer schema that cannot be resolved to
// the reader schema, a nil value. Dead-letter it.
var ErrPoison = errors.New("poison message")

// ErrTransient marks a failure that may succeed later: the registry is unreachable, timed out,
// or answered anything but its own not-found codes (5xx, 401/403, a bare 404 from a wrong
// URL path). Retry with backoff and do not commit.
var ErrTransient = errors.New("transient failure")

// Error is the error every codec in this package returns from Encode and Decode.
// errors.Is(err, ErrPoison) or errors.Is(err, ErrTransient) tells which kind it is;
// exactly one of the two always holds.
type Error struct {
	// Transient is true when retrying may succeed (see ErrTransient); false means poison.
	Transient bool
	// SchemaID is the writer schema id of the frame (decode) or of the registered schema
	// (encode), 0 when unknown.
	SchemaID int
	// Op is "decode" or "encode".
	Op string
	// Err is the cause.
	Err error
}

func (e *Error) Error() string {
	kind := "poison"
	if e.Transient {
		kind = "transient"
	}
	if e.SchemaID != 0 {
		return fmt.Sprintf("%s (%s, schema id %d): %v", e.Op, kind, e.SchemaID, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", e.Op, kind, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrPoison or ErrTransient matching the error's kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrPoison:
		return !e.Transient
	case ErrTransient:
		return e.Transient
	}
	return false
}

// IsTransient reports whether err is a transient failure (errors.Is(err, ErrTransient)).
func IsTransient(err error) bool { return errors.Is(err, ErrTransient) }

func poison(op string, id int, err error) error {
	return &Error{Op: op, SchemaID: id, Err: err}
}

func transient(op string, id int, err error) error {
	return &Error{Transient: true, Op: op, SchemaID: id, Err: err}
}
