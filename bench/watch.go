package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// received is one output record as the harness saw it.
type received struct {
	key   string
	value []byte
	at    time.Time // when the harness read it
	stamp time.Time // the record's timestamp: when the contestant produced it
}

// watcher reads a contestant's output topic from the start, noting when
// each record arrives.
type watcher struct {
	topic  string
	cancel context.CancelFunc
	done   chan error

	mu   sync.Mutex
	recs []received
}

// watch starts reading topic (which must exist).
func watch(brokers []string, topic string) (*watcher, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(50*time.Millisecond))
	if err != nil {
		return nil, fmt.Errorf("watching %s: %w", topic, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{topic: topic, cancel: cancel, done: make(chan error, 1)}
	go func() {
		defer cl.Close()
		w.done <- w.poll(ctx, cl)
	}()
	return w, nil
}

func (w *watcher) poll(ctx context.Context, cl *kgo.Client) error {
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		for _, e := range fs.Errors() {
			if !errors.Is(e.Err, context.Canceled) {
				return fmt.Errorf("reading %s: %w", w.topic, e.Err)
			}
		}
		now := time.Now()
		w.mu.Lock()
		fs.EachRecord(func(r *kgo.Record) {
			w.recs = append(w.recs, received{key: string(r.Key), value: r.Value, at: now, stamp: r.Timestamp})
		})
		w.mu.Unlock()
	}
}

// count is how many records arrived so far.
func (w *watcher) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.recs)
}

// records returns the records that arrived from index from on.
func (w *watcher) records(from int) []received {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]received(nil), w.recs[min(from, len(w.recs)):]...)
}

// close stops reading.
func (w *watcher) close() error {
	w.cancel()
	return <-w.done
}

// drain is what waitDrain measured.
type drain struct {
	first, last       time.Time     // when the contestant produced its first and n-th output
	cpuFirst, cpuLast time.Duration // the contestant's CPU time then
}

// waitDrain waits until n outputs have arrived, and times the drain by the
// outputs' own timestamps (the contestant's clients stamp each record when
// it is produced), not by when the harness read them: a fast contestant
// can be done before the harness has read much. The contestant's CPU time
// at those moments is interpolated from its samples.
func (w *watcher) waitDrain(ctx context.Context, c *child, n int, timeout time.Duration) (drain, error) {
	var d drain
	deadline := time.After(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for w.count() < n {
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-deadline:
			return d, fmt.Errorf("%s: %d of %d outputs after %s", c.name, w.count(), n, timeout)
		case err := <-w.done:
			w.done <- err
			return d, fmt.Errorf("%s: %w", c.name, err)
		case <-tick.C:
		}
		if err := c.alive(); err != nil {
			return d, err
		}
	}
	for _, r := range w.records(0)[:n] {
		if d.first.IsZero() || r.stamp.Before(d.first) {
			d.first = r.stamp
		}
		if r.stamp.After(d.last) {
			d.last = r.stamp
		}
	}
	var err1, err2 error
	d.cpuFirst, err1 = c.cpuAt(d.first)
	d.cpuLast, err2 = c.cpuAt(d.last)
	return d, errors.Join(err1, err2)
}
