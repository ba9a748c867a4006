package deploy_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/sluicehq/sluice"
	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/pipeline"
)

// The files the checks read, relative to the repository root, and the
// compose services, by the names other containers reach them by.
const (
	composeFile    = "docker-compose.yml"
	dockerfile     = "Dockerfile"
	prometheusFile = "deploy/prometheus.yml"
	readmeFile     = "README.md"

	alertsFile             = "deploy/alerts.yml"
	metricsFile            = "deploy/metrics.txt"
	dashboardFile          = "deploy/grafana/dashboards/sluice.json"
	grafanaDatasourcesFile = "deploy/grafana/provisioning/datasources/prometheus.yml"
	grafanaDashboardsFile  = "deploy/grafana/provisioning/dashboards/sluice.yml"

	kafka      = "kafka"
	registry   = "schema-registry"
	sluiceSvc  = "sluice"
	prometheus = "prometheus"
	grafana    = "grafana"
)

// A check tests one fact that `docker compose up` depends on.
type check func(context.Context, *deployment) error

// TestDeployment: CI cannot run Docker, so this is what notices when the
// files drift apart from each other or from sluice's CLI.
func TestDeployment(t *testing.T) {
	d, err := load(nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]check{
		"services": checkServices, "image": checkImage, "command lines": checkCommandLines,
		"pipelines file": checkPipelinesFile, "addresses": checkAddresses, "http and prometheus": checkHTTP,
		"alert rules": checkAlerts, "dashboard": checkDashboard, "grafana": checkGrafana,
		"metrics list": checkMetricsList, "operating section": checkOperatingSection,
	} {
		t.Run(name, func(t *testing.T) {
			if err := c(t.Context(), d); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestChecksCatchBreakage breaks one file at a time: the check of that fact
// must fail, or it proves nothing.
func TestChecksCatchBreakage(t *testing.T) {
	cases := []struct {
		check          check
		file, old, new string
	}{
		{checkServices, composeFile, "\n  prometheus:\n", "\n  prom:\n"},
		{checkImage, dockerfile, "./cmd/sluice \\", "./examples/custom-processor \\"},
		{checkImage, dockerfile, `ENTRYPOINT ["/usr/local/bin/sluice"]`, `ENTRYPOINT ["/out/sluice"]`},
		{checkCommandLines, composeFile, `"--state-dir"`, `"--state-directory"`},
		{checkCommandLines, readmeFile, "user-stats --from-beginning --max 1", "user-stats --from-start --max 1"},
		{checkPipelinesFile, composeFile, `"-f", "/etc/sluice/pipelines.yaml"`, `"-f", "/srv/pipelines.yaml"`},
		{checkAddresses, composeFile, "SLUICE_BROKERS: kafka:9092", "SLUICE_BROKERS: kafka:29092"},
		{checkAddresses, composeFile, "PLAINTEXT://kafka:9092,HOST", "PLAINTEXT://broker:9092,HOST"},
		{checkAddresses, composeFile, `"29092:29092"`, `"29093:29092"`},
		{checkAddresses, composeFile, "URL: http://schema-registry:8081", "URL: http://schema-registry:8082"},
		{checkHTTP, composeFile, "http://127.0.0.1:8080/readyz", "http://127.0.0.1:8080/ready"},
		{checkHTTP, prometheusFile, `"sluice:8080"`, `"sluice:9100"`},
		{checkHTTP, composeFile, "./deploy/prometheus.yml:", "./prometheus.yml:"},
		{checkServices, composeFile, "\n  grafana:\n", "\n  graphana:\n"},
		{checkAlerts, alertsFile, "(sluice_consumer_lag_seconds) > 300", "(sluice_consumer_lag_secs) > 300"},
		{checkAlerts, alertsFile, "max by (pipeline, stage, kind) (sluice_pipeline_breaker_open)", "max by (pipeline) (sluice_pipeline_breaker_open)"},
		{checkAlerts, alertsFile, "alert: SluiceBreakerOpen", "alert: SluiceBreakerTripped"},
		{checkAlerts, composeFile, "./deploy/alerts.yml:/etc/prometheus/rules/sluice-alerts.yml", "./deploy/alerts.yml:/etc/prometheus/alerts.yml"},
		{checkDashboard, dashboardFile, "(rate(sluice_records_emitted_total{", "(rate(sluice_records_written_total{"},
		{checkDashboard, dashboardFile, "sum by (pipeline, topic) (rate(sluice_records_emitted_total", "sum by (pipeline, output) (rate(sluice_records_emitted_total"},
		{checkDashboard, dashboardFile, `"title": "Lag (seconds) per partition"`, `"title": "Lag seconds"`},
		{checkDashboard, dashboardFile, `"legendFormat": "{{pipeline}} {{step}}"`, `"legendFormat": "{{pipeline}} {{stage}}"`},
		{checkGrafana, grafanaDatasourcesFile, "uid: prometheus", "uid: prom"},
		{checkGrafana, grafanaDatasourcesFile, "http://prometheus:9090", "http://prometheus:9091"},
		{checkGrafana, grafanaDashboardsFile, "path: /etc/grafana/dashboards", "path: /var/lib/grafana/dashboards"},
		{checkMetricsList, metricsFile, "pipeline,topic,partition\nsluice_pipeline_breaker_open", "pipeline,topic\nsluice_pipeline_breaker_open"},
		{checkMetricsList, metricsFile, "sluice_waits_total   ", "sluice_wait_total    "},
		{checkOperatingSection, readmeFile, "**Registry requests**", "**Registry calls**"},
		{checkOperatingSection, readmeFile, "| `sluice_schema_cache_misses_total` |", "| schema cache misses |"},
		{checkOperatingSection, readmeFile, "| `SluiceDown` |", "| SluiceDown |"},
	}
	for _, tc := range cases {
		t.Run(tc.file+": "+tc.new, func(t *testing.T) {
			d, err := load(func(name, text string) string {
				if name == tc.file && !strings.Contains(text, tc.old) {
					t.Fatalf("%s no longer contains %q: update this case", tc.file, tc.old)
				}
				if name == tc.file {
					return strings.Replace(text, tc.old, tc.new, 1)
				}
				return text
			})
			if err != nil {
				t.Fatal(err)
			}
			err = tc.check(t.Context(), d)
			if err == nil {
				t.Fatalf("replacing %q by %q in %s: the check found nothing wrong", tc.old, tc.new, tc.file)
			}
			t.Log(err)
		})
	}
}

// checkServices: the four services exist.
func checkServices(_ context.Context, d *deployment) error {
	var errs []error
	for _, name := range []string{kafka, registry, sluiceSvc, prometheus, grafana} {
		if _, ok := d.compose.Services[name]; !ok {
			errs = append(errs, fmt.Errorf("%s: no service %s", composeFile, name))
		}
	}
	return errors.Join(errs...)
}

// checkImage: service sluice is built from the Dockerfile, which builds
// ./cmd/sluice and makes that binary its ENTRYPOINT.
func checkImage(_ context.Context, d *deployment) error {
	var errs []error
	if b := d.compose.Services[sluiceSvc].Build; path.Clean(b.Context) != "." || cmp.Or(b.Dockerfile, dockerfile) != dockerfile {
		errs = append(errs, fmt.Errorf("%s: service sluice builds %s/%s, want ./%s", composeFile, b.Context, b.Dockerfile, dockerfile))
	}
	var built, installed string
	for _, in := range d.docker {
		if in[0] == "RUN" && slices.Contains(in, "build") && slices.Contains(in, "./cmd/sluice") {
			built = flagValue(in, "-o")
		}
	}
	for _, in := range d.final() {
		if n := len(in); in[0] == "COPY" && n >= 4 && strings.HasPrefix(in[1], "--from=") && slices.Contains(in[2:n-1], built) {
			installed = in[n-1]
		}
	}
	if ep := d.exec("ENTRYPOINT"); built == "" || len(ep) == 0 || ep[0] != installed {
		errs = append(errs, fmt.Errorf("%s: ENTRYPOINT %q is not the binary of go build -o %q ./cmd/sluice (copied to %q)",
			dockerfile, ep, built, installed))
	}
	return errors.Join(errs...)
}

// checkCommandLines: service sluice's command, the Dockerfile's CMD and the
// README section's sluice commands parse with sluice's own CLI.
func checkCommandLines(ctx context.Context, d *deployment) error {
	cmd := d.compose.Services[sluiceSvc].Command
	errs := []error{parses(ctx, composeFile, cmd), parses(ctx, dockerfile+" CMD", d.exec("CMD"))}
	if len(cmd) == 0 || cmd[0] != "run" {
		errs = append(errs, fmt.Errorf("%s: service sluice's command %q is not sluice run", composeFile, cmd))
	}
	calls := d.readmeSluiceCalls()
	if len(calls) == 0 {
		errs = append(errs, fmt.Errorf("%s: the section shows no sluice command", readmeFile))
	}
	for _, args := range calls {
		errs = append(errs, parses(ctx, readmeFile, args))
	}
	return errors.Join(errs...)
}

// parses runs `sluice <args> --help`: the CLI rejects an unknown command,
// an unknown flag or a bad flag value before it prints the command's help.
func parses(ctx context.Context, where string, args []string) error {
	var stdout, stderr bytes.Buffer
	call := append(slices.Clone(args), "--help")
	if code := sluice.Run(ctx, call, strings.NewReader(""), &stdout, &stderr); code != 0 {
		return fmt.Errorf("%s: `sluice %s` exits %d: %s", where, strings.Join(call, " "), code, strings.TrimSpace(stderr.String()))
	}
	if len(args) == 0 || !strings.Contains(stdout.String(), "\n  sluice "+args[0]+" ") {
		return fmt.Errorf("%s: %q is not a sluice command line", where, args)
	}
	return nil
}

// checkPipelinesFile: service sluice mounts the repository's pipelines.yaml
// where its -f points, and schemas/ next to it (schema paths are relative).
func checkPipelinesFile(_ context.Context, d *deployment) error {
	s := d.compose.Services[sluiceSvc]
	f := flagValue(s.Command, "-f")
	if !s.mounts("./pipelines.yaml", f) || !s.mounts("./schemas", path.Join(path.Dir(f), "schemas")) {
		return fmt.Errorf("%s: service sluice runs -f %q, but does not mount ./pipelines.yaml there and ./schemas next to it", composeFile, f)
	}
	return nil
}

// checkAddresses: the brokers and registry addresses given in the compose
// network reach the services' listeners, and so do those the README gives
// on the host, through published ports.
func checkAddresses(_ context.Context, d *deployment) error {
	var errs []error
	k, reg, sl := d.compose.Services[kafka], d.compose.Services[registry], d.compose.Services[sluiceSvc]
	// The kafka addresses that reach a listener from a container and from the host.
	var inside, outside []string
	bound := listeners(k.Environment["KAFKA_LISTENERS"])
	for name, a := range listeners(k.Environment["KAFKA_ADVERTISED_LISTENERS"]) {
		h, p := splitAddr(a)
		if _, bp := splitAddr(bound[name]); h == kafka && p == bp {
			inside = append(inside, a)
		} else if h == "localhost" && k.publishes(p, bp) {
			outside = append(outside, a)
		}
	}
	for what, list := range map[string]string{
		"service sluice's brokers":                               cmp.Or(flagValue(sl.Command, "--brokers"), sl.Environment["SLUICE_BROKERS"]),
		"service schema-registry's KAFKASTORE_BOOTSTRAP_SERVERS": reg.Environment["SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS"],
	} {
		for _, addr := range strings.Split(list, ",") {
			if h, p := splitAddr(addr); !slices.Contains(inside, h+":"+p) {
				errs = append(errs, fmt.Errorf("%s: %s %q, want one of %q", composeFile, what, addr, inside))
			}
		}
	}
	if b := d.readmeValue("SLUICE_BROKERS"); !slices.Contains(outside, b) {
		errs = append(errs, fmt.Errorf("%s: SLUICE_BROKERS=%s, want one of %q", readmeFile, b, outside))
	}
	_, port := splitAddr(reg.Environment["SCHEMA_REGISTRY_LISTENERS"])
	if u := cmp.Or(flagValue(sl.Command, "--registry"), sl.Environment["SLUICE_REGISTRY_URL"]); u != "http://"+registry+":"+port {
		errs = append(errs, fmt.Errorf("%s: service sluice's registry %q, want http://%s:%s", composeFile, u, registry, port))
	}
	if u := d.readmeValue("SLUICE_REGISTRY_URL"); !reg.publishes(strings.TrimPrefix(u, "http://localhost:"), port) {
		errs = append(errs, fmt.Errorf("%s: SLUICE_REGISTRY_URL=%s does not publish port %s", readmeFile, u, port))
	}
	return errors.Join(errs...)
}

// checkHTTP: sluice's --http-addr listens on all interfaces on a published
// port; the healthcheck probes it, and service prometheus loads
// deploy/prometheus.yml, which scrapes it, on paths sluice serves.
func checkHTTP(_ context.Context, d *deployment) error {
	var errs []error
	s := d.compose.Services[sluiceSvc]
	host, port := splitAddr(flagValue(s.Command, "--http-addr"))
	if port == "" || (host != "" && host != "0.0.0.0" && host != "::") || !s.publishes(port, port) {
		errs = append(errs, fmt.Errorf("%s: service sluice's --http-addr %s:%s, want :<port> with ports \"<port>:<port>\"", composeFile, host, port))
	}
	probe := "" // the URL curl fetches, last in the test command
	if n := len(s.Healthcheck.Test); n > 0 {
		probe = s.Healthcheck.Test[n-1]
	}
	if u, err := url.Parse(probe); err != nil || u.Hostname() != "127.0.0.1" || u.Port() != port {
		errs = append(errs, fmt.Errorf("%s: service sluice's healthcheck probes %q, want http://127.0.0.1:%s/...", composeFile, probe, port))
	} else {
		errs = append(errs, served(u.Path))
	}

	if !d.compose.Services[prometheus].mounts("./"+prometheusFile, "/etc/prometheus/prometheus.yml") {
		errs = append(errs, fmt.Errorf("%s: service prometheus does not mount ./%s at /etc/prometheus/prometheus.yml", composeFile, prometheusFile))
	}
	scraped := false
	for _, job := range d.prometheus.ScrapeConfigs {
		for _, sc := range job.StaticConfigs {
			if slices.Contains(sc.Targets, sluiceSvc+":"+port) {
				scraped = true
				errs = append(errs, served(cmp.Or(job.MetricsPath, "/metrics")))
			}
		}
	}
	if !scraped {
		errs = append(errs, fmt.Errorf("%s: no job scrapes %s:%s", prometheusFile, sluiceSvc, port))
	}
	return errors.Join(errs...)
}

// served: sluice's operations handler answers 200 on p when sluice is ready.
func served(p string) error {
	rec := httptest.NewRecorder()
	ops.Handler(readyRuntime{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
	if rec.Code != http.StatusOK {
		return fmt.Errorf("GET %s on sluice's operations endpoints answers %d, not 200", p, rec.Code)
	}
	return nil
}

// readyRuntime is a running sluice with one ready pipeline.
type readyRuntime struct{}

func (readyRuntime) Names() []string                       { return []string{"p"} }
func (readyRuntime) Counts(string) (pipeline.Counts, bool) { return pipeline.Counts{}, true }
func (readyRuntime) Status(context.Context) []pipeline.Status {
	return []pipeline.Status{{Name: "p", Ready: true}}
}
func (readyRuntime) State(string, string) (map[string]any, error) { return nil, pipeline.ErrUnknownKey }
