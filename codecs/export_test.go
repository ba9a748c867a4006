package codecs

import "time"

// WithClock replaces time.Now for the negative-cache tests.
func WithClock(now func() time.Time) AvroOption { return withClock(now) }
