package deploy_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/pipeline"
)

// prometheusConfig is the part of prometheus.yml the checks read.
type prometheusConfig struct {
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		MetricsPath   string `yaml:"metrics_path"`
		Scheme        string `yaml:"scheme"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

// checkHTTP: sluice's --http-addr listens on every interface of the
// container, on the port compose publishes, the healthcheck probes and
// Prometheus scrapes; the paths they use are ones sluice serves.
func checkHTTP(d *deployment, r *report) {
	s := d.compose.Services[svcSluice]
	if s == nil || d.httpPort == "" {
		return
	}
	where := inService(svcSluice)
	if h := d.httpHost; h != "" && h != "0.0.0.0" && h != "::" {
		r.addf(where, "--http-addr %s:%s listens on %s only: the published port and Prometheus could not reach it", h, d.httpPort, h)
	}
	ports, err := s.ports()
	if err != nil {
		r.addf(where, "ports: %v", err)
	}
	if len(s.publishedFor(d.httpPort)) == 0 {
		r.addf(where, "--http-addr port %s is not published (ports: %v)", d.httpPort, ports)
	}
	for _, p := range ports {
		if p.target != d.httpPort {
			r.addf(where, "publishes container port %s, but sluice listens on --http-addr port %s", p.target, d.httpPort)
		}
	}

	if words := s.healthTest(); words != nil {
		addrs := healthAddrs(words)
		if len(addrs) == 0 {
			r.addf(where, "healthcheck %q probes no URL the checks can read", words)
		}
		for _, a := range addrs {
			if !isLoopback(a[0]) || a[1] != d.httpPort || (a[2] != "/readyz" && a[2] != "/healthz") {
				r.addf(where, "healthcheck probes http://%s:%s%s, want http://127.0.0.1:%s/readyz (or /healthz): --http-addr is %s:%s",
					a[0], a[1], a[2], d.httpPort, d.httpHost, d.httpPort)
			} else {
				checkServed(a[2], where+": healthcheck", r)
			}
		}
	} else if !d.hasHealthcheck(svcSluice) {
		r.addf(where, "has no healthcheck (neither in %s nor in the Dockerfile)", composePath)
	}
	checkPrometheus(d, r)
}

// checkServed: sluice's operations handler answers 200 on p for a ready
// runtime, so a healthcheck or a scrape of p works.
func checkServed(p, where string, r *report) {
	rec := httptest.NewRecorder()
	ops.Handler(readyRuntime{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, p, nil))
	if rec.Code != http.StatusOK {
		r.addf(where, "GET %s on sluice's operations endpoints answers %d, not 200: %s", p, rec.Code, strings.TrimSpace(rec.Body.String()))
	}
}

// checkPrometheus: deploy/prometheus.yml scrapes sluice:<http port>/metrics,
// and the prometheus service loads that file and serves on what it publishes.
func checkPrometheus(d *deployment, r *report) {
	text, err := d.p.read(prometheusPath)
	if err != nil {
		r.addf(prometheusPath, "%v", err)
		return
	}
	var cfg prometheusConfig
	if err := yaml.Unmarshal([]byte(text), &cfg); err != nil {
		r.addf(prometheusPath, "decoding: %v", err)
		return
	}
	names := d.compose.Services[svcSluice].names(svcSluice)
	scraped := 0
	for _, job := range cfg.ScrapeConfigs {
		for _, sc := range job.StaticConfigs {
			for _, t := range sc.Targets {
				host, port, err := net.SplitHostPort(t)
				if err != nil || !slices.Contains(names, host) {
					continue
				}
				scraped++
				metricsPath := job.MetricsPath
				if metricsPath == "" {
					metricsPath = "/metrics" // Prometheus's default
				}
				switch {
				case port != d.httpPort:
					r.addf(prometheusPath, "job %s scrapes %s, but %s service %s serves on --http-addr port %s", job.JobName, t, composePath, svcSluice, d.httpPort)
				case metricsPath != "/metrics":
					r.addf(prometheusPath, "job %s scrapes %s%s, but sluice serves its metrics at /metrics", job.JobName, t, metricsPath)
				case job.Scheme != "" && job.Scheme != "http":
					r.addf(prometheusPath, "job %s uses scheme %s, but sluice serves plain http", job.JobName, job.Scheme)
				default:
					checkServed(metricsPath, prometheusPath+": job "+job.JobName, r)
				}
			}
		}
	}
	if scraped == 0 {
		r.addf(prometheusPath, "no scrape job targets %s:%s (the sluice service)", svcSluice, d.httpPort)
	}

	prom := d.compose.Services[svcPrometheus]
	if prom == nil {
		return
	}
	where := inService(svcPrometheus)
	configFile := "/etc/prometheus/prometheus.yml" // the image's default --config.file
	if f := flagValue(prom.command(), "--config.file"); f != "" {
		configFile = path.Clean(f)
	}
	mounted := false
	for _, m := range prom.mounts() {
		if m.target == configFile {
			mounted = true
			if !m.bind || path.Clean(m.source) != prometheusPath {
				r.addf(where, "mounts %s at %s, want ./%s", m.source, configFile, prometheusPath)
			}
		}
	}
	if !mounted {
		r.addf(where, "does not mount ./%s at %s: Prometheus would not scrape sluice", prometheusPath, configFile)
	}
	if len(prom.publishedFor(d.prometheusPort)) == 0 {
		r.addf(where, "Prometheus listens on %s, which ports does not publish", d.prometheusPort)
	}
	checkHealthcheckPorts(prom, svcPrometheus, []string{d.prometheusPort}, r)
}

// readyRuntime is a running sluice with one ready pipeline, for the
// operations handler.
type readyRuntime struct{}

func (readyRuntime) Names() []string { return []string{"p"} }

func (readyRuntime) Counts(string) (pipeline.Counts, bool) { return pipeline.Counts{Consumed: 1}, true }

func (readyRuntime) Status(context.Context) []pipeline.Status {
	return []pipeline.Status{{Name: "p", Group: "p", Input: "in", Phase: "running", Ready: true}}
}

func (readyRuntime) Ready(context.Context) bool { return true }

func (readyRuntime) State(string, string) (map[string]any, error) { return nil, pipeline.ErrNotFound }
