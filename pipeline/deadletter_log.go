package pipeline

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// letterLog logs a pipeline's dead letters at WARN, at most one line per
// every: the first dead letter after a quiet spell at once, the ones after
// it as counts by stage and kind on the next line, written by the next dead
// letter after every has passed or by flush, which the supervisor calls on
// a ticker so that a count is never left unsaid.
type letterLog struct {
	log   *slog.Logger
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	last    time.Time
	pending map[letterKey]int
	example string // the first pending dead letter, as text
}

func newLetterLog(log *slog.Logger, every time.Duration, now func() time.Time) *letterLog {
	return &letterLog{log: log, every: every, now: now, pending: map[letterKey]int{}}
}

// add counts a dead letter of the message at partition/offset.
func (l *letterLog) add(stage, kind string, partition int32, offset int64, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 {
		l.example = fmt.Sprintf("%s/%s at partition %d offset %d: %s", stage, kind, partition, offset, bound(err.Error(), 300))
	}
	l.pending[letterKey{stage, kind}]++
	if l.now().Sub(l.last) >= l.every {
		l.writeLocked()
	}
}

// flush writes the counts not logged yet.
func (l *letterLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) > 0 {
		l.writeLocked()
	}
}

func (l *letterLog) writeLocked() {
	keys := make([]letterKey, 0, len(l.pending))
	total := 0
	for k, n := range l.pending {
		keys = append(keys, k)
		total += n
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
	by := make([]string, len(keys))
	for i, k := range keys {
		by[i] = fmt.Sprintf("%s=%d", k, l.pending[k])
	}
	l.log.Warn("dead-lettered messages", "count", total, "by", strings.Join(by, " "), "first", l.example)
	l.last = l.now()
	clear(l.pending)
	l.example = ""
}
