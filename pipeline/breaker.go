package pipeline

import (
	"fmt"
	"sync"
	"time"

	"github.com/sluicehq/sluice/internal/deadletter"
)

// BreakerStatus is what /pipelines shows of a pipeline's dead-letter breaker.
type BreakerStatus struct {
	Open bool `json:"open"`
	// Stage and Kind are those of the dead letters that opened it last
	// (empty until it first opens).
	Stage string `json:"stage,omitempty"`
	Kind  string `json:"kind,omitempty"`
	// Since is when it opened (or closed, when Open is false).
	Since  time.Time `json:"since,omitzero"`
	Reason string    `json:"reason,omitempty"`
}

// letterKey is the stage and kind of a dead letter.
type letterKey struct{ stage, kind string }

func (k letterKey) String() string { return k.stage + "/" + k.kind }

// breakerBuckets is how many slices the sliding window is counted in: the
// window covers between 9/10 of Window and Window.
const breakerBuckets = 10

// breaker is a pipeline's dead-letter circuit breaker (see Breaker). Every
// partition of the pipeline reports to it.
type breaker struct {
	cfg Breaker
	now func() time.Time

	mu       sync.Mutex
	buckets  [breakerBuckets]breakerBucket
	status   BreakerStatus
	closedAt time.Time
}

// breakerBucket counts the messages of one slice of the window.
type breakerBucket struct {
	epoch   int64 // the slice: time / slice width
	total   int
	letters map[letterKey]int
}

// breakerTrip describes the opening of the breaker, for the log.
type breakerTrip struct {
	key          letterKey
	count, total int
}

func newBreaker(cfg Breaker, now func() time.Time) *breaker {
	return &breaker{cfg: cfg, now: now}
}

// bucket returns the bucket of now, emptied if it held an older slice, and
// now's slice.
func (b *breaker) bucket() (*breakerBucket, int64) {
	width := max(int64(b.cfg.Window)/breakerBuckets, 1)
	epoch := b.now().UnixNano() / width
	bk := &b.buckets[epoch%breakerBuckets]
	if bk.epoch != epoch {
		*bk = breakerBucket{epoch: epoch}
	}
	return bk, epoch
}

// passed counts a message that was processed or filtered.
func (b *breaker) passed() {
	if b.cfg.Off {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status.Open {
		return
	}
	bk, _ := b.bucket()
	bk.total++
}

// deadLetter asks whether a message failing at stage with kind may be
// dead-lettered. It counts the message unless the breaker is open; hold is
// true when the breaker is open (and trip is set when this message opened
// it): the message must then be held, not dead-lettered. began is when the
// failed attempt began, held whether the breaker held the message before: a
// held message is judged again only on an attempt that began after the
// breaker closed, not on one that raced with the success that closed it.
func (b *breaker) deadLetter(stage, kind string, cause error, began time.Time, held bool) (hold bool, trip *breakerTrip) {
	// Late records are the data's, not a fault a fix clears: stream time
	// never goes back, so a held one would never succeed.
	if b.cfg.Off || kind == deadletter.KindLate {
		return false, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.status.Open || (held && began.Before(b.closedAt)) {
		return true, nil
	}
	key := letterKey{stage, kind}
	bk, epoch := b.bucket()
	bk.total++
	if bk.letters == nil {
		bk.letters = map[letterKey]int{}
	}
	bk.letters[key]++
	count, total := 0, 0
	for i := range b.buckets {
		if o := &b.buckets[i]; o.epoch > epoch-breakerBuckets {
			count += o.letters[key]
			total += o.total
		}
	}
	if total < b.cfg.MinMessages || float64(count) < b.cfg.Ratio*float64(total) {
		return false, nil
	}
	trip = &breakerTrip{key: key, count: count, total: total}
	b.status = BreakerStatus{
		Open: true, Stage: stage, Kind: kind, Since: b.now(),
		Reason: fmt.Sprintf("dead-letter breaker open: %d of the last %d messages (within %s) failed at stage %s as %s, at least the breaker's ratio %g; "+
			"the partitions are held instead of dead-lettered until a held message succeeds. First held: %s",
			count, total, b.cfg.Window, stage, kind, b.cfg.Ratio, bound(cause.Error(), 300)),
	}
	return true, trip
}

// heldSucceeded closes an open breaker: a message it held went through, so
// whatever failed them all is fixed. The window starts afresh. It reports
// whether the breaker was open.
func (b *breaker) heldSucceeded() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.status.Open {
		return false
	}
	b.buckets = [breakerBuckets]breakerBucket{}
	b.closedAt = b.now()
	b.status = BreakerStatus{Stage: b.status.Stage, Kind: b.status.Kind, Since: b.closedAt}
	return true
}

// snapshot returns the breaker's status, nil when it is off.
func (b *breaker) snapshot() *BreakerStatus {
	if b.cfg.Off {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.status
	return &st
}

// bound cuts s to at most n bytes, marking the cut.
func bound(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n-- // not inside a UTF-8 sequence
	}
	return s[:n] + "…"
}
