package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/hashicorp/go-multierror"
)

// TestPermanent: what restarting cannot fix stops sluice; broker outages,
// however goka wraps them, are restarted.
func TestPermanent(t *testing.T) {
	wrap := func(err error) error {
		// The way goka's processor returns a consumer's failure.
		return multierror.Append(nil, fmt.Errorf("error consuming from group consumer: %w", err))
	}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{wrap(sarama.ErrFencedInstancedId), true},
		{wrap(&sarama.ConsumerError{Topic: "t", Partition: 1, Err: sarama.ErrFencedInstancedId}), true},
		{wrap(sarama.ErrInvalidSessionTimeout), true},
		{wrap(sarama.ConfigurationError("Consumer.Group.Session.Timeout must be >= 2ms")), true},
		{wrap(&permanentError{errors.New("opening the table storage /x: not a directory")}), true},
		{wrap(sarama.ErrOutOfBrokers), false},
		{wrap(sarama.ErrNotCoordinatorForConsumer), false},
		{wrap(&net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), false},
		{wrap(io.EOF), false},
		{wrap(context.DeadlineExceeded), false},
	} {
		if got := permanent(c.err); got != c.want {
			t.Errorf("permanent(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// stubGroup is a consumer group whose errors the test sends.
type stubGroup struct {
	sarama.ConsumerGroup
	errs chan error
}

func (g stubGroup) Errors() <-chan error { return g.errs }

// TestFenceWatch: a fenced instance id on the errors channel (a heartbeat or
// a commit) is reported at once, every error still reaches goka, and the
// watch ends when sarama closes the channel.
func TestFenceWatch(t *testing.T) {
	g := stubGroup{errs: make(chan error)}
	fenced := make(chan error, 4)
	w := watchFencing(g, func(err error) { fenced <- err })

	g.errs <- sarama.ErrRebalanceInProgress
	if err := <-w.Errors(); !errors.Is(err, sarama.ErrRebalanceInProgress) {
		t.Fatalf("forwarded %v, want the rebalance error", err)
	}
	g.errs <- &sarama.ConsumerError{Topic: "t", Partition: 2, Err: sarama.ErrFencedInstancedId}
	select {
	case err := <-fenced:
		if !errors.Is(err, sarama.ErrFencedInstancedId) {
			t.Errorf("fenced with %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a fenced commit was not reported")
	}
	if err := <-w.Errors(); !errors.Is(err, sarama.ErrFencedInstancedId) {
		t.Errorf("forwarded %v, want the fenced error", err)
	}
	close(g.errs)
	if _, ok := <-w.Errors(); ok {
		t.Error("the watch's channel is open after sarama closed its own")
	}
	if len(fenced) != 0 {
		t.Errorf("%d more fence reports, want none", len(fenced))
	}
}

// TestFailingStorage: a table in the way of a file is a permanent failure
// naming its path; a table another storage still holds open (a previous
// processor not closed yet) is not, and opens once that one closes.
func TestFailingStorage(t *testing.T) {
	dir := t.TempDir()
	var failed []error
	build := failingStorage(dir, func(err error) { failed = append(failed, err) })

	first, err := build("g-table", 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = build("g-table", 0)
	if err == nil || permanent(err) || len(failed) != 0 || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("opening a table held open: %v (permanent %v, reported %v), want a locked error to retry", err, permanent(err), failed)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := build("g-table", 0)
	if err != nil {
		t.Fatalf("reopening a closed table: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}

	blocked := filepath.Join(dir, "g-table.1")
	if err := os.WriteFile(blocked, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = build("g-table", 1)
	if err == nil || !permanent(err) || len(failed) != 1 || !strings.Contains(err.Error(), blocked) {
		t.Fatalf("opening a table where a file is: %v (reported %v), want a permanent error naming %s", err, failed, blocked)
	}
}
