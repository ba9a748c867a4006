package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka/storage"
	"github.com/syndtr/goleveldb/leveldb"
)

// ErrFenced is the error of a pipeline whose instance id the broker fenced:
// another live process joined the group with the same --instance-id. The
// process stops instead of rejoining, which would fence the other one in
// turn, so that the two never own the same partitions by turns.
var ErrFenced = errors.New("instance id fenced by the broker")

// permanentError marks a failure that restarting the processor cannot fix
// (a state folder that cannot be written, a fenced instance id): the
// supervisor stops with it instead of restarting every RestartBackoff.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// permanent reports whether a processor's failure is one restarting cannot
// fix. Broker outages (refused connections, timeouts, leader changes) are
// not: they heal, and the processor is restarted.
func permanent(err error) bool {
	var pe *permanentError
	var ce sarama.ConfigurationError
	switch {
	case errors.As(err, &pe), errors.As(err, &ce):
		return true
	case errors.Is(err, sarama.ErrFencedInstancedId),
		// Apache Kafka refuses a session timeout outside its group bounds
		// on every join.
		errors.Is(err, sarama.ErrInvalidSessionTimeout),
		errors.Is(err, sarama.ErrGroupAuthorizationFailed):
		return true
	}
	return false
}

// checkStateDir makes sure dir exists and can be written, so that an
// unusable --state-dir stops sluice at once with the path and the cause
// instead of failing each processor start.
func checkStateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("state dir %s cannot be created: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".sluice-write-check-*")
	if err != nil {
		return fmt.Errorf("state dir %s cannot be written: %w", dir, err)
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		return fmt.Errorf("state dir %s cannot be written: %w", dir, err)
	}
	if err := os.Remove(name); err != nil {
		return fmt.Errorf("state dir %s: removing %s: %w", dir, name, err)
	}
	return nil
}

// failingStorage keeps tables in LevelDB under dir, as goka's default
// builder does, but keeps the cause of a failure: a table that cannot be
// opened (a file in the way, no permission, a read-only or full disk, a
// corrupt database) is a permanent failure of the pipeline, reported with
// its path. A table that is locked is not: the previous processor of this
// process may not have closed it yet (the processor is restarted and tries
// again), or another process uses the same --state-dir (the error says so).
func failingStorage(dir string, fail func(error)) storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		path := filepath.Join(dir, fmt.Sprintf("%s.%d", topic, partition))
		db, err := leveldb.OpenFile(path, nil)
		switch {
		case errors.Is(err, syscall.EWOULDBLOCK):
			return nil, fmt.Errorf("opening the table storage %s: it is locked (by another sluice process using the same --state-dir?): %w", path, err)
		case err != nil:
			err = &permanentError{fmt.Errorf("opening the table storage %s: %w", path, err)}
			fail(err)
			return nil, err
		}
		return storage.New(db)
	}
}

// fenceWatch passes a consumer group's errors on to goka, and reports a
// fenced instance id first. sarama reports FENCED_INSTANCE_ID from a
// heartbeat or a commit only on this channel (goka logs it and rejoins), or
// as the error of a join. The forwarding goroutine ends when sarama closes
// the channel, which it does when goka closes the group.
type fenceWatch struct {
	sarama.ConsumerGroup
	errs chan error
}

func watchFencing(cg sarama.ConsumerGroup, fenced func(error)) *fenceWatch {
	w := &fenceWatch{ConsumerGroup: cg, errs: make(chan error, 16)}
	go w.forward(fenced)
	return w
}

func (w *fenceWatch) forward(fenced func(error)) {
	defer close(w.errs)
	for err := range w.ConsumerGroup.Errors() {
		if errors.Is(err, sarama.ErrFencedInstancedId) {
			fenced(err)
		}
		// Like sarama: an error nobody listens for is dropped.
		select {
		case w.errs <- err:
		default:
		}
	}
}

// Errors returns the consumer group's errors.
func (w *fenceWatch) Errors() <-chan error { return w.errs }
