package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
)

// minSession is the shortest time between the starts of two sessions of a
// sessionLoop: a session that ends sooner is followed by a pause, so that a
// group that cannot keep a session never spins.
const minSession = 100 * time.Millisecond

// sessionLoop is a consumer group whose Consume runs one group session after
// another until ctx ends or a session fails, instead of returning when a
// session ends.
//
// Goka calls Consume in a loop and sleeps a fixed 5 s each time it returns
// nil (rebalanceLoop in goka v1.1.17's processor.go, no option to change
// it). Sarama's eager Consume returns at every rebalance, so every member of
// the group slept 5 s at every membership change, and the coordinator waited
// for the sleepers to rejoin: joins and restarts cost 5 to 25 s of outage.
// Looping here means goka never sees a session end, so it never sleeps.
//
// This is safe because goka keeps no state between two Consume calls that
// this skips: sarama calls the handler's Setup at the start of every session
// and its Cleanup at the end, inside Consume (newConsumerGroupSession and
// release), exactly as when goka loops. Goka's Setup builds a partition
// processor for each claimed partition from scratch (recovering its table
// from the storage's offset to the high-water mark), ConsumeClaim feeds the
// one of its claim, and Cleanup stops them all, waiting for their in-flight
// writes, and empties the map: each session starts from nothing. Goka's
// session-error watcher only logs and cancels a context that Consume never
// receives. Failures still stop the processor: a partition processor that
// fails makes Cleanup fail, sarama returns that error from Consume, and it is
// returned to goka here as before; so are join and sync failures once
// sarama's retries are spent. Cancelling ctx ends the session (Cleanup, last
// commit) and the loop, as before.
//
// One error does not stop it: a session that ends while messages are held
// or retried makes the handler abort them (errStopping), since goka can
// leave a message uncommitted only by failing it. Those messages go to the
// partitions' next owners; a session whose only errors are such aborts
// ended as planned, and the next one starts as after any other rebalance
// (instead of a processor restart, its pause and a cold table).
type sessionLoop struct {
	sarama.ConsumerGroup
}

// Consume runs sessions until ctx ends or one fails.
func (g sessionLoop) Consume(ctx context.Context, topics []string, handler sarama.ConsumerGroupHandler) error {
	h := &sessionEnd{ConsumerGroupHandler: handler}
	for {
		began := time.Now()
		h.cause = nil
		if err := g.ConsumerGroup.Consume(ctx, topics, h); err != nil && !onlyAborts(err) {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
		// A static member whose id another process took must not rejoin:
		// that would fence the other one in turn. Sarama ends the session
		// with that cause (from a heartbeat or a commit) and returns nil.
		if errors.Is(h.cause, sarama.ErrFencedInstancedId) {
			return fmt.Errorf("group session ended: %w", h.cause)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(minSession - time.Since(began)):
		}
	}
}

// sessionEnd notes why each session ended: the cause sarama cancelled the
// session's context with. Cleanup runs inside Consume, so the loop reads it
// after Consume without a race.
type sessionEnd struct {
	sarama.ConsumerGroupHandler
	cause error
}

func (h *sessionEnd) Cleanup(s sarama.ConsumerGroupSession) error {
	h.cause = context.Cause(s.Context())
	return h.ConsumerGroupHandler.Cleanup(s)
}

// onlyAborts reports whether err, a session's error, consists of handler
// aborts alone. For each aborted callback goka reports two errors: the
// failure (wrapping errStopping) and the panic that ended the callback,
// which goka formats with %v, so that one is recognised by its text.
func onlyAborts(err error) bool {
	leaves := leafErrors(err)
	for _, e := range leaves {
		if !errors.Is(e, errStopping) && !strings.Contains(e.Error(), "panic in callback: "+errStopping.Error()) {
			return false
		}
	}
	return len(leaves) > 0
}

// leafErrors flattens the error lists (goka's are go-multierror's) in err,
// wherever they are in its chain, into the errors that hold no list.
func leafErrors(err error) []error {
	for e := err; e != nil; e = errors.Unwrap(e) {
		var list []error
		switch l := e.(type) {
		case interface{ WrappedErrors() []error }:
			list = l.WrappedErrors()
		case interface{ Unwrap() []error }:
			list = l.Unwrap()
		default:
			continue
		}
		var out []error
		for _, e := range list {
			out = append(out, leafErrors(e)...)
		}
		return out
	}
	return []error{err}
}

// sessionLoopBuilder wraps the consumer groups build makes in a sessionLoop.
func sessionLoopBuilder(build goka.ConsumerGroupBuilder) goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		cg, err := build(brokers, group, clientID)
		if err != nil {
			return nil, err
		}
		return sessionLoop{ConsumerGroup: cg}, nil
	}
}
