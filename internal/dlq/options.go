package dlq

import (
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/render"
)

// config collects the options of Inspect and Replay.
type config struct {
	clientOpts []kgo.Opt
	decoder    Decoder
	filter     *Filter
	max        int
	idle       time.Duration
	follow     bool
	target     string
	rate       float64
	group      string
	maxReplays int
	dryRun     func(*Planned) error
	progress   func(Progress)
}

// Decoder renders a value for display and for filters. The CLI supplies the
// one `sluice consume` uses (Avro by the frame's writer schema id, JSON,
// else string or base64).
type Decoder func(value []byte) render.Value

// Option configures Inspect or Replay.
type Option func(*config)

func newConfig(opts []Option) config {
	c := config{decoder: render.Guess, maxReplays: DefaultMaxReplays}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithClientOpts adds franz-go options (at least kgo.SeedBrokers) to the
// clients Inspect and Replay create.
func WithClientOpts(opts ...kgo.Opt) Option {
	return func(c *config) { c.clientOpts = append(c.clientOpts, opts...) }
}

// WithDecoder sets how values are rendered; the default renders JSON as is,
// other UTF-8 as a string and anything else as base64, without a registry.
func WithDecoder(d Decoder) Option {
	return func(c *config) {
		if d != nil {
			c.decoder = d
		}
	}
}

// WithFilter keeps only the dead letters f matches. Inspect does not report
// the others; Replay skips them and commits their offsets in its group,
// which is the filter's own (FilterGroup) unless WithGroup sets one.
func WithFilter(f *Filter) Option { return func(c *config) { c.filter = f } }

// WithMaxReplays makes Replay refuse the dead letters replayed n times
// already (their sluice.replay.count), which stops a letter that fails
// every time from going round for ever; 0 refuses none. The default is
// DefaultMaxReplays.
func WithMaxReplays(n int) Option { return func(c *config) { c.maxReplays = n } }

// WithMax makes Inspect stop after n reported dead letters (0 = no limit).
func WithMax(n int) Option { return func(c *config) { c.max = n } }

// WithIdleTimeout makes Inspect stop when no record arrives for d
// (0 = never).
func WithIdleTimeout(d time.Duration) Option { return func(c *config) { c.idle = d } }

// Follow makes Inspect start at the end and report dead letters written
// from now on, instead of reading from the earliest offset up to the end
// offsets observed at start.
func Follow() Option { return func(c *config) { c.follow = true } }

// WithTarget makes Replay publish every dead letter to topic instead of its
// source topic (the sluice.source.topic header).
func WithTarget(topic string) Option { return func(c *config) { c.target = topic } }

// WithRate limits Replay to perSecond published records (0 = unlimited).
func WithRate(perSecond float64) Option { return func(c *config) { c.rate = perSecond } }

// WithGroup sets the consumer group (and transactional id) in which Replay
// records its progress; the default is DefaultGroup(topic), or
// FilterGroup(topic, filter) with a filter.
func WithGroup(g string) Option { return func(c *config) { c.group = g } }

// DryRun makes Replay call fn for every record it would publish, starting
// from the group's committed offsets, and publish and commit nothing.
func DryRun(fn func(*Planned) error) Option { return func(c *config) { c.dryRun = fn } }

// WithProgress makes Replay call fn after each committed transaction (and
// once at the start) from the goroutine that called Replay.
func WithProgress(fn func(Progress)) Option { return func(c *config) { c.progress = fn } }
