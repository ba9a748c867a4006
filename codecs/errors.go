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

// ErrUnavailable marks a failure of a dependency, not of the message: the registry is
// unreachable, timed out, or answered anything but its own not-found codes (5xx, 401/403, a
// bare 404 from a wrong URL path). The message may succeed later: hold it (retry until the
// dependency is back, never dead-letter it) and do not commit. It is distinct from
// processors.ErrTransient, a step's failure worth a bounded number of retries.
var ErrUnavailable = errors.New("dependency unavailable")

// Error is the error every codec in this package returns from Encode and Decode.
// errors.Is(err, ErrPoison) or errors.Is(err, ErrUnavailable) tells which kind it is;
// exactly one of the two always holds.
type Error struct {
	// Unavailable is true when a dependency failed and retrying may succeed (see
	// ErrUnavailable); false means poison.
	Unavailable bool
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
	if e.Unavailable {
		kind = "unavailable"
	}
	if e.SchemaID != 0 {
		return fmt.Sprintf("%s (%s, schema id %d): %v", e.Op, kind, e.SchemaID, e.Err)
	}
	return fmt.Sprintf("%s (%s): %v", e.Op, kind, e.Err)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is ErrPoison or ErrUnavailable matching the error's kind.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrPoison:
		return !e.Unavailable
	case ErrUnavailable:
		return e.Unavailable
	}
	return false
}

// IsUnavailable reports whether err is a dependency's failure (errors.Is(err, ErrUnavailable)).
func IsUnavailable(err error) bool { return errors.Is(err, ErrUnavailable) }

func poison(op string, id int, err error) error {
	return &Error{Op: op, SchemaID: id, Err: err}
}

func unavailable(op string, id int, err error) error {
	return &Error{Unavailable: true, Op: op, SchemaID: id, Err: err}
}
