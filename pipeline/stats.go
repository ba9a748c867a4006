package pipeline

import (
	"sync/atomic"
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
	// outcomeWindowClosed is a loopback that published closed windows: not
	// a consumed message, so not counted.
	outcomeWindowClosed
)

// stats counts a pipeline's messages without locking: the callbacks of
// every partition and the producer's acknowledgements update it at once.
// A message's outcome is one atomic add to one counter, and Consumed is not
// a counter of its own but the sum of the outcomes, so every snapshot adds
// up (consumed = processed + filtered + dead-lettered) by construction.
type stats struct {
	processed, filtered, deadLettered, replaysForOthers atomic.Int64
	retries, waits                                      atomic.Int64
	waiting                                             atomic.Bool
	started                                             time.Time
}

func newStats() *stats { return &stats{started: time.Now()} }

func (s *stats) record(o outcome) {
	switch o {
	case outcomeProcessed:
		s.processed.Add(1)
	case outcomeFiltered:
		s.filtered.Add(1)
	case outcomeDeadLettered:
		s.deadLettered.Add(1)
	case outcomeReplayForOther:
		s.replaysForOthers.Add(1)
	}
}

func (s *stats) retry() { s.retries.Add(1) }

func (s *stats) wait() { s.waits.Add(1) }

func (s *stats) setWaiting(w bool) { s.waiting.Store(w) }

func (s *stats) snapshot() Counts {
	c := Counts{
		Processed:        s.processed.Load(),
		Filtered:         s.filtered.Load(),
		DeadLettered:     s.deadLettered.Load(),
		ReplaysForOthers: s.replaysForOthers.Load(),
		Retries:          s.retries.Load(),
		Waits:            s.waits.Load(),
		Waiting:          s.waiting.Load(),
	}
	c.Filtered += c.ReplaysForOthers
	c.Consumed = c.Processed + c.Filtered + c.DeadLettered
	return c
}
