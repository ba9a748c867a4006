package deploy_test

import (
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/goccy/go-yaml"
)

// composeFile is the part of the Compose specification the checks read.
// Fields that Compose accepts in several shapes (a list or a map, a string or
// a list) are kept as decoded and normalised by the methods below.
type composeFile struct {
	Services map[string]*composeService `yaml:"services"`
}

type composeService struct {
	Image         string       `yaml:"image"`
	Hostname      string       `yaml:"hostname"`
	ContainerName string       `yaml:"container_name"`
	Build         any          `yaml:"build"`
	Entrypoint    any          `yaml:"entrypoint"`
	Command       any          `yaml:"command"`
	Environment   any          `yaml:"environment"`
	Ports         []any        `yaml:"ports"`
	Volumes       []any        `yaml:"volumes"`
	DependsOn     any          `yaml:"depends_on"`
	Healthcheck   *healthcheck `yaml:"healthcheck"`
	Networks      any          `yaml:"networks"`
}

type healthcheck struct {
	Test    any  `yaml:"test"`
	Disable bool `yaml:"disable"`
}

// portMapping is one entry of a service's ports: published on the host
// (empty when Docker picks a port) and the container's target port.
type portMapping struct {
	published, target string
}

// mount is one entry of a service's volumes.
type mount struct {
	source, target string
	bind           bool // source is a host path
}

// parseCompose decodes a compose file after interpolating its variables the
// way `docker compose` does with an empty environment, so that the checks
// see the defaults the file ships with.
func parseCompose(text string) (*composeFile, error) {
	var c composeFile
	if err := yaml.Unmarshal([]byte(interpolate(text)), &c); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if len(c.Services) == 0 {
		return nil, fmt.Errorf("no services")
	}
	for name, s := range c.Services {
		if s == nil {
			c.Services[name] = &composeService{}
		}
	}
	return &c, nil
}

var composeVar = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// interpolate replaces ${VAR:-default} and ${VAR-default} by the default,
// every other variable by the empty string, and $$ by $.
func interpolate(s string) string {
	return composeVar.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		sub := composeVar.FindStringSubmatch(m)
		if sub[2] == ":-" || sub[2] == "-" {
			return sub[3]
		}
		return ""
	})
}

// names are the host names other containers reach the service by.
func (s *composeService) names(service string) []string {
	out := []string{service}
	if s.Hostname != "" {
		out = append(out, s.Hostname)
	}
	if s.ContainerName != "" {
		out = append(out, s.ContainerName)
	}
	if nets, ok := s.Networks.(map[string]any); ok {
		for _, n := range nets {
			if cfg, ok := n.(map[string]any); ok {
				out = append(out, toStrings(cfg["aliases"])...)
			}
		}
	}
	return dedupe(out)
}

// env returns the service's environment as a map.
func (s *composeService) env() map[string]string {
	out := map[string]string{}
	switch e := s.Environment.(type) {
	case map[string]any:
		for k, v := range e {
			out[k] = scalar(v)
		}
	case []any:
		for _, kv := range e {
			k, v, _ := strings.Cut(scalar(kv), "=")
			out[k] = v
		}
	}
	return out
}

// command returns the service's command as arguments.
func (s *composeService) command() []string { return argv(s.Command) }

// ports returns the service's published ports.
func (s *composeService) ports() ([]portMapping, error) {
	var out []portMapping
	for _, p := range s.Ports {
		switch p := p.(type) {
		case map[string]any:
			out = append(out, portMapping{published: scalar(p["published"]), target: scalar(p["target"])})
		default:
			spec, _, _ := strings.Cut(scalar(p), "/")
			parts := strings.Split(spec, ":")
			switch len(parts) {
			case 1:
				out = append(out, portMapping{target: parts[0]})
			case 2:
				out = append(out, portMapping{published: parts[0], target: parts[1]})
			case 3:
				out = append(out, portMapping{published: parts[1], target: parts[2]})
			default:
				return nil, fmt.Errorf("port %q: unsupported syntax", spec)
			}
		}
	}
	return out, nil
}

// publishedFor returns the host ports that publish the container port target.
func (s *composeService) publishedFor(target string) []string {
	ports, _ := s.ports()
	var out []string
	for _, p := range ports {
		if p.target == target && p.published != "" {
			out = append(out, p.published)
		}
	}
	return out
}

// mounts returns the service's volumes.
func (s *composeService) mounts() []mount {
	var out []mount
	for _, v := range s.Volumes {
		var m mount
		switch v := v.(type) {
		case map[string]any:
			m = mount{source: scalar(v["source"]), target: scalar(v["target"]), bind: scalar(v["type"]) == "bind"}
		default:
			parts := strings.Split(scalar(v), ":")
			if len(parts) == 1 {
				m = mount{target: parts[0]}
			} else {
				m = mount{source: parts[0], target: parts[1]}
			}
			m.bind = strings.HasPrefix(m.source, ".") || strings.HasPrefix(m.source, "/") || strings.HasPrefix(m.source, "~")
		}
		m.target = path.Clean(m.target)
		out = append(out, m)
	}
	return out
}

// dependsOn maps each service this one depends on to the condition it waits for.
func (s *composeService) dependsOn() map[string]string {
	out := map[string]string{}
	switch d := s.DependsOn.(type) {
	case []any:
		for _, name := range d {
			out[scalar(name)] = "service_started"
		}
	case map[string]any:
		for name, spec := range d {
			cond := "service_started"
			if m, ok := spec.(map[string]any); ok && scalar(m["condition"]) != "" {
				cond = scalar(m["condition"])
			}
			out[name] = cond
		}
	}
	return out
}

// healthTest returns the words of the service's healthcheck command, or nil
// when the service has none in the compose file.
func (s *composeService) healthTest() []string {
	if s.Healthcheck == nil || s.Healthcheck.Disable {
		return nil
	}
	words := argv(s.Healthcheck.Test)
	if len(words) == 0 || words[0] == "NONE" {
		return nil
	}
	switch words[0] {
	case "CMD":
		return words[1:]
	case "CMD-SHELL":
		return shellWords(strings.Join(words[1:], " "))
	}
	return words
}

// build returns the build context and the Dockerfile path, relative to the
// compose file's folder; ok is false for a service that is not built.
func (s *composeService) build() (context, dockerfile string, ok bool) {
	switch b := s.Build.(type) {
	case string:
		return b, "Dockerfile", true
	case map[string]any:
		context, dockerfile = scalar(b["context"]), scalar(b["dockerfile"])
		if context == "" {
			context = "."
		}
		if dockerfile == "" {
			dockerfile = "Dockerfile"
		}
		return context, dockerfile, true
	}
	return "", "", false
}

// argv turns a string (split like a shell) or a list into arguments.
func argv(v any) []string {
	if s, ok := v.(string); ok {
		return shellWords(s)
	}
	return toStrings(v)
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, scalar(x))
	}
	return out
}

func scalar(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

func dedupe(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// shellWords splits s into words like a POSIX shell without expansions:
// single and double quotes group, a backslash escapes the next character, and
// a # at the start of a word comments out the rest of the line.
func shellWords(s string) []string {
	var (
		out     []string
		cur     strings.Builder
		inWord  bool
		quote   rune
		escaped bool
		comment bool
	)
	for _, r := range s {
		switch {
		case comment:
			comment = r != '\n'
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '#' && !inWord:
			comment = true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
