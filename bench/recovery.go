package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/sluicehq/sluice/internal/demo"
	"github.com/sluicehq/sluice/internal/testkit"
)

// w3Result is table recovery from the changelog.
type w3Result struct {
	records   int64         // changelog records recovered
	recover   time.Duration // from the first "recovering" status to ready
	sinceExec time.Duration // from the process start to ready
	peakRSS   int64
	err       error
}

// recoverW3 starts sluice again, state in memory, on the group W1's sluice
// ran, so that it recovers the table from the changelog W1 wrote, and
// times it by polling sluice's status endpoint.
func (h *harness) recoverW3(ctx context.Context, ws *w1Data) (r w3Result) {
	if ws.recoveryGroup == "" {
		r.err = errors.New("W3 recovers the table of W1's sluice run: run W1 with the sluice contestant")
		return r
	}
	changelog := ws.recoveryGroup + "-table"
	ends, err := h.adm.ListEndOffsets(ctx, changelog)
	if err != nil {
		r.err = fmt.Errorf("reading the end of %s: %w", changelog, err)
		return r
	}
	starts, err := h.adm.ListStartOffsets(ctx, changelog)
	if err != nil {
		r.err = fmt.Errorf("reading the start of %s: %w", changelog, err)
		return r
	}
	ends.Each(func(o kadm.ListedOffset) {
		if s, ok := starts.Lookup(o.Topic, o.Partition); ok {
			r.records += o.Offset - s.Offset
		}
	})
	path, err := h.sluiceConfig(ws.recoveryGroup+"-w3", ws.recoveryTopic)
	if err != nil {
		r.err = err
		return r
	}
	addr, err := freeAddr()
	if err != nil {
		r.err = err
		return r
	}
	start := time.Now()
	p, err := startChild("sluice (recovery)", h.sluice, []string{"run", "-f", path, "--pipeline", "user-stats",
		"--brokers", joinList(h.brokers), "--registry", h.env.RegistryURL(), "--log-level", "warn", "--http-addr", addr}, nil)
	if err != nil {
		r.err = err
		return r
	}
	defer func() {
		if u, err := p.stop(30 * time.Second); err == nil {
			r.peakRSS = u.peakRSS
		}
	}()
	var recovering time.Time
	deadline := time.Now().Add(h.o.timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		if err := p.alive(); err != nil {
			r.err = err
			return r
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			r.err = fmt.Errorf("sluice was not ready within %s", h.o.timeout)
			return r
		}
		st, err := pipelineStatus(ctx, client, addr)
		now := time.Now()
		if err == nil {
			if st.Phase == "recovering" && recovering.IsZero() {
				recovering = now
			}
			if st.Ready {
				if recovering.IsZero() {
					recovering = start
				}
				r.recover, r.sinceExec = now.Sub(recovering), now.Sub(start)
				return r
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// status is the part of GET /pipelines/{name} W3 reads.
type status struct {
	Phase string `json:"phase"`
	Ready bool   `json:"ready"`
}

func pipelineStatus(ctx context.Context, client *http.Client, addr string) (status, error) {
	var st status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/pipelines/user-stats", nil)
	if err != nil {
		return st, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// freeAddr returns a loopback address nothing listens on right now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// manyKeys runs W5: user-stats over w5Keys distinct keys, one event each,
// state in LevelDB, for sluice and the hand-written goka processor.
func (h *harness) manyKeys(ctx context.Context, rep *report) error {
	o := h.o
	input := h.run + "-many-keys"
	if err := h.createTopics(ctx, input); err != nil {
		return err
	}
	v1, v2, err := h.writers(ctx, input)
	if err != nil {
		return err
	}
	h.log("W5: producing %d events, one per key", o.w5Keys)
	events := demo.GenerateEvents(o.seed+5, o.w5Keys, 1, 0.01)
	for i := range events {
		events[i].Key = fmt.Sprintf("user-%07d", i)
	}
	records, err := demo.Records(input, events, v1, v2, 1<<30)
	if err != nil {
		return err
	}
	if err := h.produce(ctx, records); err != nil {
		return err
	}
	ws := &w1Data{input: input, events: events, records: records}
	ws.oracle = testkit.ExpectUserStats(events)
	for _, s := range ws.oracle {
		ws.applied += int(s.Events)
	}
	for _, c := range []string{cSluiceLevelDB, cGoka} {
		if !strings.Contains(o.contestants, c) {
			continue
		}
		h.log("W5: %s draining %d keys", c, o.w5Keys)
		r := result{workload: "W5", contestant: c, msgs: len(events)}
		h.drainOnce(ctx, c, h.topicsFor(input, "w5-"+c), true, statsOutputs, ws.applied, ws, &r)
		rep.w5 = append(rep.w5, r)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}
