package deploy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The files the checks read, relative to the repository root.
const (
	composePath    = "docker-compose.yml"
	prometheusPath = "deploy/prometheus.yml"
	readmePath     = "README.md"
	kafkaShPath    = "scripts/kafka.sh"
	venvShPath     = "scripts/python-venv.sh"
	dockerignore   = ".dockerignore"
)

// The compose services the checks expect.
const (
	svcKafka      = "kafka"
	svcRegistry   = "schema-registry"
	svcSluice     = "sluice"
	svcPrometheus = "prometheus"
)

// project is the repository as the checks see it: files read from root,
// except those replaced in texts (the mutation tests use that).
type project struct {
	root  string
	texts map[string]string
}

func (p *project) read(name string) (string, error) {
	if s, ok := p.texts[name]; ok {
		return s, nil
	}
	b, err := os.ReadFile(filepath.Join(p.root, filepath.FromSlash(name)))
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", name, err)
	}
	return string(b), nil
}

// exists reports whether a repository path exists (texts count as files).
func (p *project) exists(name string) bool {
	if _, ok := p.texts[name]; ok {
		return true
	}
	_, err := os.Stat(filepath.Join(p.root, filepath.FromSlash(name)))
	return err == nil
}

// isDir reports whether a repository path is a folder.
func (p *project) isDir(name string) bool {
	fi, err := os.Stat(filepath.Join(p.root, filepath.FromSlash(name)))
	return err == nil && fi.IsDir()
}

func (p *project) abs(name string) string {
	return filepath.Join(p.root, filepath.FromSlash(name))
}

// report collects problems; each names the file (and service) it is about.
type report struct {
	problems []string
}

func (r *report) addf(where, format string, args ...any) {
	r.problems = append(r.problems, where+": "+fmt.Sprintf(format, args...))
}

func (r *report) String() string { return strings.Join(r.problems, "\n") }

func inService(name string) string { return composePath + ": service " + name }
