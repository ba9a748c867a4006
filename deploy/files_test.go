package deploy_test

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
)

// deployment is what the checks read of the files.
type deployment struct {
	compose struct {
		Services map[string]service `yaml:"services"`
	}
	prometheus struct {
		RuleFiles     []string `yaml:"rule_files"`
		ScrapeConfigs []struct {
			MetricsPath   string `yaml:"metrics_path"`
			StaticConfigs []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	docker [][]string // the Dockerfile's instructions as words
	readme string     // the shell code of the README's "Run on real Kafka" section

	alerts struct {
		Groups []struct {
			Name  string      `yaml:"name"`
			Rules []alertRule `yaml:"rules"`
		} `yaml:"groups"`
	}
	dashboard   dashboard
	datasources struct {
		Datasources []struct {
			UID  string `yaml:"uid"`
			Type string `yaml:"type"`
			URL  string `yaml:"url"`
		} `yaml:"datasources"`
	}
	dashboardProviders struct {
		Providers []struct {
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	metrics  map[string]metricDef // deploy/metrics.txt by name
	operates string               // the README's "Operating Sluice" section
}

type alertRule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

// dashboard is what the checks read of the Grafana dashboard JSON.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name       string `json:"name"`
			Type       string `json:"type"`
			Definition string `json:"definition"`
			Current    struct {
				Value any `json:"value"`
			} `json:"current"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Title      string `json:"title"`
		Type       string `json:"type"`
		Datasource struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		Targets []struct {
			Expr         string `json:"expr"`
			LegendFormat string `json:"legendFormat"`
		} `json:"targets"`
	} `json:"panels"`
}

// metricDef is one line of deploy/metrics.txt.
type metricDef struct {
	kind   string // counter, gauge or histogram
	labels []string
}

type service struct {
	Build struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	} `yaml:"build"`
	Command     []string          `yaml:"command"`
	Environment map[string]string `yaml:"environment"`
	Ports       []string          `yaml:"ports"`   // "host:container"
	Volumes     []string          `yaml:"volumes"` // "source:target[:mode]"
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

// load reads the files from the repository root, the parent of this
// package's folder; edit, if not nil, may change a file's text.
func load(edit func(name, text string) string) (*deployment, error) {
	texts := map[string]string{}
	for _, name := range []string{composeFile, dockerfile, prometheusFile, readmeFile,
		alertsFile, metricsFile, dashboardFile, grafanaDatasourcesFile, grafanaDashboardsFile} {
		b, err := os.ReadFile(path.Join("..", name))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", name, err)
		}
		text := string(b)
		if edit != nil {
			text = edit(name, text)
		}
		texts[name] = text
	}
	var d deployment
	if err := yaml.Unmarshal([]byte(texts[composeFile]), &d.compose); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", composeFile, err)
	}
	for name, v := range map[string]any{prometheusFile: &d.prometheus, alertsFile: &d.alerts,
		grafanaDatasourcesFile: &d.datasources, grafanaDashboardsFile: &d.dashboardProviders} {
		if err := yaml.Unmarshal([]byte(texts[name]), v); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", name, err)
		}
	}
	if err := json.Unmarshal([]byte(texts[dashboardFile]), &d.dashboard); err != nil {
		return nil, fmt.Errorf("decoding %s: %w", dashboardFile, err)
	}
	var err error
	if d.metrics, err = parseMetrics(texts[metricsFile]); err != nil {
		return nil, fmt.Errorf("%s: %w", metricsFile, err)
	}
	_, ops, ok := strings.Cut(texts[readmeFile], "\n## Operating Sluice\n")
	if !ok {
		return nil, fmt.Errorf("%s has no section %q", readmeFile, "Operating Sluice")
	}
	d.operates, _, _ = strings.Cut(ops, "\n## ")
	for _, line := range strings.Split(strings.ReplaceAll(texts[dockerfile], "\\\n", " "), "\n") {
		if w := strings.Fields(line); len(w) > 0 && !strings.HasPrefix(w[0], "#") {
			d.docker = append(d.docker, w)
		}
	}
	_, sec, ok := strings.Cut(texts[readmeFile], "\n## Run on real Kafka\n")
	if !ok {
		return nil, fmt.Errorf("%s has no section %q", readmeFile, "Run on real Kafka")
	}
	sec, _, _ = strings.Cut(strings.ReplaceAll(sec, "\\\n", " "), "\n## ")
	for _, m := range codeBlock.FindAllStringSubmatch(sec, -1) {
		d.readme += m[1]
	}
	return &d, nil
}

// final returns the instructions of the image's stage, after the last FROM.
func (d *deployment) final() [][]string {
	start := 0
	for i, in := range d.docker {
		if in[0] == "FROM" {
			start = i + 1
		}
	}
	return d.docker[start:]
}

// exec returns the final stage's last op (ENTRYPOINT, CMD) in exec form.
func (d *deployment) exec(op string) []string {
	var argv []string
	for _, in := range d.final() {
		if in[0] == op {
			argv = nil
			_ = json.Unmarshal([]byte(strings.Join(in[1:], " ")), &argv) // the shell form stays empty
		}
	}
	return argv
}

var (
	codeBlock  = regexp.MustCompile("(?s)```sh\n(.*?)```")
	sluiceCall = regexp.MustCompile(`(?m)(?:\./cmd/sluice|^sluice) ([^|;&\n]*)`)
)

// readmeSluiceCalls returns the arguments of the README's sluice commands.
func (d *deployment) readmeSluiceCalls() [][]string {
	var out [][]string
	for _, m := range sluiceCall.FindAllStringSubmatch(d.readme, -1) {
		args, _, _ := strings.Cut(m[1], "#") // a trailing comment
		out = append(out, strings.Fields(args))
	}
	return out
}

// readmeValue returns the value the README's code gives the variable name.
func (d *deployment) readmeValue(name string) string {
	m := regexp.MustCompile(`\b` + name + `=(\S+)`).FindStringSubmatch(d.readme)
	if m == nil {
		return ""
	}
	return m[1]
}

// flagValue returns the value of the flag name in args (--name v or --name=v).
func flagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// splitAddr splits "host:port", "scheme://host:port" or a URL with a path.
func splitAddr(addr string) (host, port string) {
	if _, rest, ok := strings.Cut(addr, "://"); ok {
		addr = rest
	}
	addr, _, _ = strings.Cut(addr, "/")
	host, port, _ = net.SplitHostPort(strings.TrimSpace(addr))
	return host, port
}

// listeners maps the names of a Kafka listener list (NAME://host:port,...)
// to their host:port.
func listeners(list string) map[string]string {
	out := map[string]string{}
	for _, l := range strings.Split(list, ",") {
		if name, addr, ok := strings.Cut(strings.TrimSpace(l), "://"); ok {
			out[name] = addr
		}
	}
	return out
}

// publishes reports whether the service publishes container port to on host port from.
func (s service) publishes(from, to string) bool {
	for _, p := range s.Ports {
		parts := strings.Split(p, ":")
		if n := len(parts); n >= 2 && parts[n-2] == from && parts[n-1] == to {
			return true
		}
	}
	return false
}

// mounts reports whether the service mounts source at target.
func (s service) mounts(source, target string) bool {
	for _, v := range s.Volumes {
		parts := strings.Split(v, ":")
		if len(parts) >= 2 && path.Clean(parts[0]) == path.Clean(source) && path.Clean(parts[1]) == target {
			return true
		}
	}
	return false
}

// parseMetrics reads deploy/metrics.txt: "name kind labels" a line, labels
// comma-separated or "-", # comments.
func parseMetrics(text string) (map[string]metricDef, error) {
	out := map[string]metricDef{}
	for i, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if len(f) != 3 || !slices.Contains([]string{"counter", "gauge", "histogram"}, f[1]) {
			return nil, fmt.Errorf("line %d: want \"name counter|gauge|histogram labels\", got %q", i+1, line)
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice", i+1, f[0])
		}
		m := metricDef{kind: f[1]}
		if f[2] != "-" {
			m.labels = strings.Split(f[2], ",")
		}
		out[f[0]] = m
	}
	return out, nil
}
