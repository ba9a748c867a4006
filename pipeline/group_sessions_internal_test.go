package pipeline

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/IBM/sarama"
)

func TestOnlyAborts(t *testing.T) {
	// The two errors goka reports for an aborted callback, as it words them.
	failed := fmt.Errorf("error processing message (partition=5): %w", fmt.Errorf("synchronous error in callback: %w", errStopping))
	panicked := fmt.Errorf("error processing message (partition=5): %w", fmt.Errorf("panic in callback: %v\n%v", errStopping, "(*handler).abort"))
	failure := fmt.Errorf("error processing message (partition=2): %w", errors.New("asynchronous error from callback: kafka: not leader"))
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"one aborted callback", errors.Join(failed, panicked), true},
		{"aborts in nested lists", errors.Join(errors.Join(failed, panicked), errors.Join(failed, panicked)), true},
		{"aborts in a wrapped list", fmt.Errorf("cleanup: %w", errors.Join(failed, panicked)), true},
		{"an abort and a failure", errors.Join(failed, panicked, failure), false},
		{"a failure in a wrapped list", fmt.Errorf("cleanup: %w", errors.Join(failed, failure)), false},
		{"a failure", failure, false},
	} {
		if got := onlyAborts(c.err); got != c.want {
			t.Errorf("%s: onlyAborts(%q) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}

// scriptedGroup is a consumer group whose sessions end as its script says:
// each Consume runs one session (Setup, Cleanup) whose context is cancelled
// with the next cause, and returns the next error. Once the script is over,
// a session closes idle and lasts until ctx ends.
type scriptedGroup struct {
	sarama.ConsumerGroup
	causes []error
	errs   []error
	calls  int
	idle   chan struct{}
}

func (g *scriptedGroup) Consume(ctx context.Context, _ []string, h sarama.ConsumerGroupHandler) error {
	i := g.calls
	g.calls++
	if i >= len(g.causes) {
		close(g.idle)
		<-ctx.Done()
		return nil
	}
	sctx, cancel := context.WithCancelCause(ctx)
	cancel(g.causes[i])
	s := scriptedSession{ctx: sctx}
	if err := h.Setup(s); err != nil {
		return err
	}
	if err := h.Cleanup(s); err != nil {
		return err
	}
	return g.errs[i]
}

type scriptedSession struct {
	sarama.ConsumerGroupSession
	ctx context.Context
}

func (s scriptedSession) Context() context.Context { return s.ctx }

type nopHandler struct{}

func (nopHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (nopHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (nopHandler) ConsumeClaim(sarama.ConsumerGroupSession, sarama.ConsumerGroupClaim) error {
	return nil
}

func TestSessionLoop(t *testing.T) {
	aborted := errors.Join(
		fmt.Errorf("error processing message (partition=1): %w", fmt.Errorf("synchronous error in callback: %w", errStopping)),
		fmt.Errorf("error processing message (partition=1): %w", fmt.Errorf("panic in callback: %v", errStopping)))
	broken := errors.New("kafka: broker not available")
	for _, c := range []struct {
		name     string
		causes   []error
		errs     []error
		want     error // nil: goes on to the next session
		sessions int   // scripted sessions run
	}{
		{"rebalances", []error{sarama.ErrRebalanceInProgress, sarama.ErrRebalanceInProgress}, []error{nil, nil}, nil, 2},
		{"held messages aborted", []error{sarama.ErrRebalanceInProgress}, []error{aborted}, nil, 1},
		{"a failure", []error{sarama.ErrRebalanceInProgress, sarama.ErrRebalanceInProgress}, []error{nil, broken}, broken, 2},
		{"fenced", []error{sarama.ErrRebalanceInProgress, sarama.ErrFencedInstancedId}, []error{nil, nil}, sarama.ErrFencedInstancedId, 2},
		{"fenced with held messages", []error{sarama.ErrFencedInstancedId}, []error{aborted}, sarama.ErrFencedInstancedId, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := &scriptedGroup{causes: c.causes, errs: c.errs, idle: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- sessionLoop{ConsumerGroup: g}.Consume(ctx, []string{"in"}, nopHandler{}) }()
			var err error
			select {
			case err = <-done:
			case <-g.idle:
				// Every scripted session ended and the loop started the next.
				cancel()
				err = <-done
			}
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("Consume = %v, want %v", err, c.want)
			}
			if c.want == nil {
				c.sessions++ // the idle one
			}
			if g.calls != c.sessions {
				t.Errorf("%d sessions, want %d", g.calls, c.sessions)
			}
		})
	}
}
