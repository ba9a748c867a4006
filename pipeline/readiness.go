package pipeline

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/sluicehq/sluice/codecs"
	"github.com/sluicehq/sluice/registry/regclient"
)

// registryProbe is what await asks of the registry client besides what
// the codecs ask; *regclient.Client implements it. A client without it (a
// test's) is not probed.
type registryProbe interface {
	URL() string
	SchemaTypes(ctx context.Context) ([]string, error)
	Versions(ctx context.Context, subject string) ([]int, error)
}

var _ registryProbe = (*regclient.Client)(nil)

// await returns once the pipeline may start consuming: the schema registry
// answers like one, the subject of its Avro input exists, and its Avro
// output schemas are registered. Until then the pipeline is in
// PhaseChecking, not ready, its status says what is missing, the log says
// it (every holdLogEvery, or when the reason changes), and it checks again
// every CheckInterval: a user may push the input's schema after starting
// sluice. Consuming earlier would dead-letter every message whose schema
// cannot be found. It returns an error only for what waiting cannot fix: the
// registry refuses sluice's credentials (401, or 403 for what they may not
// do), or registering an output schema fails for good.
func (sv *Supervisor) await(ctx context.Context, run *pipelineProcess) error {
	var lastLog time.Time
	lastReason := ""
	for {
		reason, level, err := sv.check(ctx, run)
		if err != nil {
			return fmt.Errorf("pipeline %s: %w", run.p.Name, err)
		}
		if ctx.Err() != nil {
			return nil
		}
		if reason == "" {
			if lastReason != "" {
				run.log.Info("pipeline ready to start: what it waited for is there")
			}
			run.setChecking("")
			return nil
		}
		run.setChecking(reason)
		if reason != lastReason || time.Since(lastLog) >= holdLogEvery {
			run.log.Log(ctx, level, "pipeline not ready, not consuming", "reason", reason, "check_again_in", sv.opts.CheckInterval)
			lastReason, lastLog = reason, time.Now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(sv.opts.CheckInterval):
		}
	}
}

// check returns why the pipeline cannot start yet (empty when it can) and
// how loud to say it.
func (sv *Supervisor) check(ctx context.Context, run *pipelineProcess) (reason string, level slog.Level, err error) {
	p := run.p
	needs := p.Input.Registered() || len(run.registered) > 0
	if probe, ok := sv.client.(registryProbe); ok && needs {
		if _, err := probe.SchemaTypes(ctx); err != nil && ctx.Err() == nil {
			if regclient.IsAuthFailure(err) {
				return "", 0, credentialsRefused(probe.URL(), err)
			}
			var re *regclient.Error
			// A registry JSON error answer (an old registry without
			// /schemas/types answers 404 with error code 404) is a registry.
			if !errors.As(err, &re) || re.Code == 0 {
				reason, level := registryProblem(probe.URL(), "", err)
				return reason, level, nil
			}
		}
		if p.Input.Registered() && p.Input.HasSchema() {
			subject := codecs.SubjectNamed(subjectStrategies[sv.cfg.Registry.SubjectStrategy], p.Input.Topic, false, p.Input.SchemaName())
			if _, err := probe.Versions(ctx, subject); err != nil && ctx.Err() == nil {
				if regclient.IsAuthFailure(err) {
					return "", 0, credentialsRefused(probe.URL(), err)
				}
				if regclient.IsNotFound(err) {
					return fmt.Sprintf("subject %s does not exist in the schema registry at %s: no producer has registered a schema for topic %s yet "+
						"(register it, e.g. with `sluice schemas push`, and the pipeline starts)", subject, probe.URL(), p.Input.Topic), slog.LevelWarn, nil
				}
				reason, level := registryProblem(probe.URL(), subject, err)
				return reason, level, nil
			}
		}
	}
	for _, c := range run.registered {
		if _, err := c.Register(ctx); err != nil && ctx.Err() == nil {
			url := ""
			if probe, ok := sv.client.(registryProbe); ok {
				url = probe.URL()
			}
			if regclient.IsAuthFailure(err) {
				return "", 0, credentialsRefused(url, err)
			}
			if !codecs.IsUnavailable(err) {
				return "", 0, fmt.Errorf("registering output schema: %w", err)
			}
			var re *regclient.Error
			if errors.As(err, &re) && (re.StatusCode == http.StatusConflict || re.StatusCode == http.StatusUnprocessableEntity) {
				// The registry refuses the schema (incompatible with the
				// subject's versions, or invalid): a configuration error.
				return fmt.Sprintf("the schema registry refuses the output schema for subject %s: %v", c.Subject(), err), slog.LevelError, nil
			}
			reason, level := registryProblem(url, c.Subject(), err)
			return reason, level, nil
		}
	}
	if reason, level, err := sv.registerState(ctx, run); reason != "" || err != nil {
		return reason, level, err
	}
	if err := sv.reloadHistory(ctx, run); err != nil && ctx.Err() == nil {
		return fmt.Sprintf("cannot read the input's history (its topic id and the group's reset generation): %v", err), slog.LevelWarn, nil
	}
	return "", 0, nil
}

// registryProblem says what a failed registry call means for starting: a
// 4xx answer that is not a registry's (a bare 404, an HTML page) or a refusal
// of the credentials is a configuration error, logged at ERROR; anything
// else (refused connections, timeouts, 5xx) may pass, and is a WARN. err's
// text names the request's URL without credentials; url is the registry's.
func registryProblem(url, subject string, err error) (string, slog.Level) {
	registry := "the schema registry"
	if url != "" {
		registry += " at " + url
	}
	about := ""
	if subject != "" {
		about = " about subject " + subject
	}
	var re *regclient.Error
	switch {
	case errors.As(err, &re) && (re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden):
		return fmt.Sprintf("%s refuses sluice's credentials%s (%v): check the user and password or token of --registry / registry.url", registry, about, err), slog.LevelError
	case errors.As(err, &re) && re.Code == 0 && re.StatusCode < http.StatusInternalServerError:
		// A 5xx without a registry body (a gateway's 502) may pass.
		target := url
		if target == "" {
			target = "the schema registry URL"
		}
		return fmt.Sprintf("%s does not answer like a schema registry%s (%v): check --registry / registry.url (scheme, host, port and path)", target, about, err), slog.LevelError
	}
	return fmt.Sprintf("cannot ask %s%s: %v", registry, about, err), slog.LevelWarn
}

func (run *pipelineProcess) setChecking(reason string) {
	run.mu.Lock()
	defer run.mu.Unlock()
	run.reason = reason
	if reason != "" {
		run.phase = PhaseChecking
	}
}
