package dlq

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/render"
)

// Entry is a dead letter with its value rendered, as Inspect reports it.
type Entry struct {
	Letter
	Value render.Value
}

// InspectStats counts what Inspect read.
type InspectStats struct {
	Read     int // dead letters read
	Reported int // dead letters passed to fn (those the filter matched)
	// FilterErrors counts dead letters the filter failed on at run time
	// (say value.amount on a value that is a string); they count as not
	// matching, and FirstFilterError says why the first one failed.
	FilterErrors     int
	FirstFilterError error
}

// Inspect reads the dead letters of topic and calls fn for each one the
// filter matches. By default it reads from the earliest offset up to the
// end offsets observed when it starts and then returns; with Follow it
// reports new dead letters until ctx is done. WithMax and WithIdleTimeout
// end it earlier. A dead letter the filter fails on counts as not matching
// (see InspectStats.FilterErrors). A cancelled ctx is not an error: Inspect returns what it
// counted.
func Inspect(ctx context.Context, topic string, fn func(*Entry) error, opts ...Option) (InspectStats, error) {
	c := newConfig(opts)
	var st InspectStats
	sp, err := c.readSpan(ctx, topic, "", c.follow)
	if err != nil {
		return st, err
	}
	rd, err := newReader(topic, sp, c.idle, c.clientOpts)
	if err != nil {
		return st, err
	}
	defer rd.close()
	err = rd.each(ctx, func(r *kgo.Record) error {
		st.Read++
		e := Entry{Letter: Parse(r)}
		e.Value = c.decoder(r.Value)
		if c.filter != nil {
			ok, err := c.filter.Match(e.Env(e.Value))
			if err != nil {
				if st.FilterErrors++; st.FirstFilterError == nil {
					st.FirstFilterError = fmt.Errorf("dead letter %s[%d]@%d: %w", r.Topic, r.Partition, r.Offset, err)
				}
				return nil
			}
			if !ok {
				return nil
			}
		}
		st.Reported++
		if err := fn(&e); err != nil {
			return err
		}
		if c.max > 0 && st.Reported >= c.max {
			return errStop
		}
		return nil
	})
	if err != nil && ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		err = nil
	}
	return st, err
}
