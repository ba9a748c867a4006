package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/sluicehq/sluice/internal/ops"
	"github.com/sluicehq/sluice/pipeline"
)

// The alerts and dashboard panels operators are promised (README, "Operating Sluice").
var (
	wantAlerts = []string{"SluiceConsumerLagHigh", "SluiceDeadLetterRateHigh", "SluiceBreakerOpen", "SluicePipelineNotReady"}
	wantPanels = []string{
		"Ready", "Dead-letter breaker", "Build", "Consumed and processed", "Emitted per output topic",
		"Dead letters by stage and kind", "Retries by stage", "Lag (messages) per partition",
		"Lag (seconds) per partition", "Message duration p50 / p99", "Registry requests",
		"Schema cache hit ratio", "Table recovery progress",
	}
)

// Labels every scraped series has besides its own: the scrape target's and
// the static label deploy/prometheus.yml adds.
var targetLabels = []string{"job", "instance", "service"}

var (
	metricName = regexp.MustCompile(`\bsluice_[a-z0-9_]+`)
	grouping   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	selector   = regexp.MustCompile(`\{([^}]*)\}`)
	matcher    = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	legendVar  = regexp.MustCompile(`\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}`)
	labelsVar  = regexp.MustCompile(`\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)`)
)

// checkExpr checks that a PromQL expression uses only the metrics of
// deploy/metrics.txt, with their labels, and returns the labels its result
// keeps (those of its by clauses, else all the metrics').
func (d *deployment) checkExpr(where, expr string) (kept []string, err error) {
	var errs []error
	allowed := slices.Clone(targetLabels)
	for _, name := range metricName.FindAllString(expr, -1) {
		m, ok := d.metrics[name]
		if !ok {
			base, suffix := histogramBase(name)
			if m, ok = d.metrics[base]; !ok || m.kind != "histogram" {
				errs = append(errs, fmt.Errorf("%s: metric %s is not in %s", where, name, metricsFile))
				continue
			}
			if suffix == "_bucket" {
				allowed = append(allowed, "le")
			}
		}
		allowed = append(allowed, m.labels...)
	}
	var used []string
	for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
		for l := range strings.SplitSeq(g[2], ",") {
			if l = strings.TrimSpace(l); l != "" {
				used = append(used, l)
				if g[1] == "by" {
					kept = append(kept, l)
				}
			}
		}
	}
	for _, sel := range selector.FindAllStringSubmatch(expr, -1) {
		for _, m := range matcher.FindAllStringSubmatch(sel[1], -1) {
			used = append(used, m[1])
		}
	}
	for _, l := range used {
		if !slices.Contains(allowed, l) {
			errs = append(errs, fmt.Errorf("%s: label %s is not a label of the metrics of %q", where, l, expr))
		}
	}
	if kept == nil {
		kept = allowed
	}
	return kept, errors.Join(errs...)
}

func histogramBase(name string) (base, suffix string) {
	for _, s := range []string{"_bucket", "_sum", "_count"} {
		if b, ok := strings.CutSuffix(name, s); ok {
			return b, s
		}
	}
	return name, ""
}

// checkAlerts: deploy/alerts.yml has the promised alerts, each with a
// severity and a summary naming only labels its expression keeps, over
// listed metrics; service prometheus mounts it where prometheus.yml loads it.
func checkAlerts(_ context.Context, d *deployment) error {
	var errs []error
	mounted := false
	for _, f := range d.prometheus.RuleFiles {
		mounted = mounted || d.compose.Services[prometheus].mounts("./"+alertsFile, f)
	}
	if !mounted {
		errs = append(errs, fmt.Errorf("%s: service prometheus does not mount ./%s at one of the rule_files of %s (%q)",
			composeFile, alertsFile, prometheusFile, d.prometheus.RuleFiles))
	}
	var names []string
	for _, g := range d.alerts.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			errs = append(errs, fmt.Errorf("%s: a group without a name or rules", alertsFile))
		}
		for _, r := range g.Rules {
			names = append(names, r.Alert)
			where := alertsFile + ": " + r.Alert
			if r.Alert == "" || r.Expr == "" || r.For == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				errs = append(errs, fmt.Errorf("%s: every alert needs alert, expr, for, labels.severity and annotations.summary", where))
			}
			kept, err := d.checkExpr(where, r.Expr)
			errs = append(errs, err)
			for _, text := range r.Annotations {
				for _, m := range labelsVar.FindAllStringSubmatch(text, -1) {
					if !slices.Contains(kept, m[1]) {
						errs = append(errs, fmt.Errorf("%s: an annotation names $labels.%s, which the expression drops", where, m[1]))
					}
				}
			}
		}
	}
	for _, want := range wantAlerts {
		if !slices.Contains(names, want) {
			errs = append(errs, fmt.Errorf("%s: no alert %s", alertsFile, want))
		}
	}
	return errors.Join(errs...)
}

// checkDashboard: the dashboard has the promised panels, each querying the
// data source variable with expressions over listed metrics, whose legends
// name only labels the expressions keep.
func checkDashboard(_ context.Context, d *deployment) error {
	var errs []error
	db := d.dashboard
	if db.UID == "" || db.Title == "" {
		errs = append(errs, fmt.Errorf("%s: no uid or title", dashboardFile))
	}
	var titles []string
	for _, p := range db.Panels {
		titles = append(titles, p.Title)
		if p.Type == "row" {
			continue
		}
		where := dashboardFile + ": panel " + p.Title
		if len(p.Targets) == 0 || p.Datasource.UID != "${datasource}" {
			errs = append(errs, fmt.Errorf("%s: want targets and the datasource ${datasource}", where))
		}
		for _, t := range p.Targets {
			kept, err := d.checkExpr(where, t.Expr)
			errs = append(errs, err)
			for _, m := range legendVar.FindAllStringSubmatch(t.LegendFormat, -1) {
				if !slices.Contains(kept, m[1]) {
					errs = append(errs, fmt.Errorf("%s: legend %q names %s, which %q drops", where, t.LegendFormat, m[1], t.Expr))
				}
			}
		}
	}
	for _, want := range wantPanels {
		if !slices.Contains(titles, want) {
			errs = append(errs, fmt.Errorf("%s: no panel %q", dashboardFile, want))
		}
	}
	for _, v := range db.Templating.List {
		if v.Definition != "" {
			_, err := d.checkExpr(dashboardFile+": variable "+v.Name, v.Definition)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkGrafana: service grafana provisions the Prometheus of the compose
// file as the data source the dashboard selects, and loads the dashboard
// from where the provider looks.
func checkGrafana(_ context.Context, d *deployment) error {
	var errs []error
	g := d.compose.Services[grafana]
	for _, dir := range []string{"datasources", "dashboards"} {
		if !g.mounts("./deploy/grafana/provisioning/"+dir, "/etc/grafana/provisioning/"+dir) {
			errs = append(errs, fmt.Errorf("%s: service grafana does not mount ./deploy/grafana/provisioning/%s", composeFile, dir))
		}
	}
	if ps := d.dashboardProviders.Providers; len(ps) != 1 || !g.mounts("./"+path.Dir(dashboardFile), ps[0].Options.Path) {
		errs = append(errs, fmt.Errorf("%s: service grafana does not mount ./%s where %s loads dashboards from",
			composeFile, path.Dir(dashboardFile), grafanaDashboardsFile))
	}
	var current any
	for _, v := range d.dashboard.Templating.List {
		if v.Name == "datasource" {
			current = v.Current.Value
		}
	}
	ds := d.datasources.Datasources
	if len(ds) != 1 || ds[0].Type != "prometheus" || ds[0].UID != current {
		errs = append(errs, fmt.Errorf("%s: want one prometheus data source whose uid is the dashboard's default data source %v", grafanaDatasourcesFile, current))
	} else if host, port := splitAddr(ds[0].URL); host != prometheus || !d.compose.Services[prometheus].publishes(port, port) {
		errs = append(errs, fmt.Errorf("%s: data source URL %s is not service prometheus's port", grafanaDatasourcesFile, ds[0].URL))
	}
	return errors.Join(errs...)
}

// checkMetricsList: every sluice_* metric that sluice's /metrics exports
// is in deploy/metrics.txt, with the same type and labels.
func checkMetricsList(_ context.Context, d *deployment) error {
	rec := httptest.NewRecorder()
	ops.Handler(busyRuntime{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	exported, err := parseExposition(rec.Body.String())
	if err != nil {
		return err
	}
	var errs []error
	for name, got := range exported {
		want, ok := d.metrics[name]
		switch {
		case !ok:
			errs = append(errs, fmt.Errorf("/metrics exports %s, which %s does not list", name, metricsFile))
		case want.kind != got.kind || !slices.Equal(slices.Sorted(slices.Values(want.labels)), got.labels):
			errs = append(errs, fmt.Errorf("/metrics exports %s as %s %q, %s lists %s %q", name, got.kind, got.labels, metricsFile, want.kind, want.labels))
		}
	}
	return errors.Join(errs...)
}

// parseExposition reads the sluice_* metrics of a Prometheus text exposition:
// their types and sorted label names.
func parseExposition(text string) (map[string]metricDef, error) {
	out := map[string]metricDef{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && strings.HasPrefix(f[2], "sluice_") {
			out[f[2]] = metricDef{kind: f[3]}
			continue
		}
		if !strings.HasPrefix(line, "sluice_") {
			continue
		}
		name, rest, _ := strings.Cut(line, "{")
		base, _ := histogramBase(name)
		m, ok := out[base]
		if !ok {
			if m, ok = out[name]; !ok {
				return nil, fmt.Errorf("/metrics: series %q has no # TYPE", line)
			}
			base = name
		}
		labels, _, _ := strings.Cut(rest, "}")
		for _, lm := range matcher.FindAllStringSubmatch(labels, -1) {
			if l := lm[1]; l != "le" && !slices.Contains(m.labels, l) {
				m.labels = append(m.labels, l)
			}
		}
		slices.Sort(m.labels)
		out[base] = m
	}
	return out, nil
}

// checkOperatingSection: the README's "Operating Sluice" section names every
// listed metric, every dashboard panel and every alert.
func checkOperatingSection(_ context.Context, d *deployment) error {
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(d.metrics)) {
		if !strings.Contains(d.operates, "`"+name) {
			errs = append(errs, fmt.Errorf("%s, Operating Sluice: metric %s is not described", readmeFile, name))
		}
	}
	for _, p := range d.dashboard.Panels {
		if p.Type != "row" && !strings.Contains(d.operates, "**"+p.Title+"**") {
			errs = append(errs, fmt.Errorf("%s, Operating Sluice: dashboard panel %q is not described (as **%s**)", readmeFile, p.Title, p.Title))
		}
	}
	for _, g := range d.alerts.Groups {
		for _, r := range g.Rules {
			if !strings.Contains(d.operates, "`"+r.Alert+"`") {
				errs = append(errs, fmt.Errorf("%s, Operating Sluice: alert %s is not described", readmeFile, r.Alert))
			}
		}
	}
	return errors.Join(errs...)
}

// busyRuntime is a running sluice whose pipeline has every optional part
// (lag partitions, a breaker), so that /metrics exports every series.
type busyRuntime struct{ readyRuntime }

func (busyRuntime) Status(context.Context) []pipeline.Status {
	return []pipeline.Status{{
		Name: "p", Ready: true, Input: "in",
		LagPartitions: []pipeline.PartitionLag{{Partition: 0, Lag: 3}},
		Breaker:       &pipeline.BreakerStatus{Stage: "decode", Kind: "poison"},
	}}
}
