package pipeline

import (
	"sync"
	"time"
)

// Counts are a pipeline's message counts since it started. Consumed always
// equals Processed + Filtered + DeadLettered: a message is counted once, with
// its outcome, after the broker acknowledged its outputs or its dead letter.
type Counts struct {
	Consumed     int64 `json:"consumed"`
	Processed    int64 `json:"processed"`
	Filtered     int64 `json:"filtered"`
	DeadLettered int64 `json:"dead_lettered"`
	// ReplaysForOthers counts the records `sluice dlq replay` addressed to
	// another pipeline reading the same topic (sluice.replay.pipeline),
	// skipped here; they are part of Filtered.
	ReplaysForOthers int64 `json:"replays_for_others"`
	// Retries counts attempts beyond the first at a message that failed
	// transiently; it is not part of the sum.
	Retries int64 `json:"retries"`
	// Waits counts the pauses of held messages: waiting for a dependency
	// (the registry) or for the dead-letter breaker to close is not a retry.
	Waits int64 `json:"waits"`
	// Waiting is true while a message is held because a dependency (the
	// registry) is unavailable or the dead-letter breaker is open.
	Waiting bool `json:"waiting"`
}

// outcome is what happened to one message.
type outcome int

const (
	outcomeProcessed outcome = iota
	outcomeFiltered
	outcomeDeadLettered
	// outcomeReplayForOther is filtered: a replay for another pipeline.
	outcomeReplayForOther
)

// stats guards Counts so that a snapshot always adds up.
type stats struct {
	mu      sync.Mutex
	c       Counts
	started time.Time
}

func newStats() *stats { return &stats{started: time.Now()} }

func (s *stats) record(o outcome) {
	s.mu.Lock()
	s.c.Consumed++
	switch o {
	case outcomeProcessed:
		s.c.Processed++
	case outcomeFiltered:
		s.c.Filtered++
	case outcomeDeadLettered:
		s.c.DeadLettered++
	case outcomeReplayForOther:
		s.c.Filtered++
		s.c.ReplaysForOthers++
	}
	s.mu.Unlock()
}

func (s *stats) retry() {
	s.mu.Lock()
	s.c.Retries++
	s.mu.Unlock()
}

func (s *stats) wait() {
	s.mu.Lock()
	s.c.Waits++
	s.mu.Unlock()
}

func (s *stats) setWaiting(w bool) {
	s.mu.Lock()
	s.c.Waiting = w
	s.mu.Unlock()
}

func (s *stats) snapshot() Counts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.c
}
