package sluice_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/sluicehq/sluice"

// importRules are the package boundaries the package doc comments state:
// each package must not depend, directly or through another package, on
// any of the listed packages. An entry ending in "/..." bans everything
// under that path; "std" alone means the standard library only.
var importRules = map[string][]string{
	"internal/deadletter": {"std"},
	"internal/redact":     {"std"},
	"internal/bounded":    {"std"},
	"internal/buildinfo":  {"std"},
	"schemas":             {"std"},
	"internal/partition":  {module + "/...", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"internal/conf":       {module + "/...", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"internal/tracing":    {module + "/..."},
	"internal/tlsconf":    {module + "/pipeline", module + "/codecs", module + "/registry/...", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"registry/regclient":  {module + "/codecs", module + "/pipeline", module + "/registry", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"registry":            {module + "/codecs", module + "/pipeline", module + "/registry/regclient", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"codecs":              {module + "/pipeline", module + "/processors", module + "/registry", module + "/internal/cli", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"processors":          {module + "/pipeline", "github.com/lovoo/goka", "github.com/IBM/sarama", "github.com/twmb/franz-go/pkg/kgo"},
	"pipeline":            {module + "/internal/cli", module + "/internal/ops", module + "/internal/publish", module + "/internal/dlq", module + "/internal/devenv", module + "/internal/demo", module + "/registry"},
	"internal/render":     {module + "/pipeline", module + "/internal/cli", module + "/internal/dlq", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"internal/dlq":        {module + "/pipeline", module + "/internal/cli", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"internal/ops":        {module + "/internal/cli", module + "/internal/dlq"},
	"internal/publish":    {module + "/pipeline", module + "/processors", module + "/internal/cli", module + "/internal/ops", module + "/internal/dlq", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"internal/devenv":     {module + "/pipeline", module + "/internal/cli", "github.com/lovoo/goka"},
	"internal/demo":       {module + "/pipeline", module + "/internal/cli", "github.com/lovoo/goka"},
	// The outbox relay reaches Kafka through franz-go, never the engine.
	"outbox": {module + "/pipeline", module + "/processors", module + "/internal/cli", module + "/internal/ops", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	// The hand-written contestants of the benchmark share nothing with sluice.
	"bench/contest": {module + "/..."},

	// Schema formats are shared by the registry and the codecs: neither may come in.
	"internal/schemafmt": {module + "/...", "github.com/lovoo/goka", "github.com/IBM/sarama"},

	// One way to connect to Kafka for every client; sarama kept apart.
	"internal/kafkaconn":             {module + "/pipeline", module + "/processors", module + "/codecs", module + "/registry/...", module + "/internal/cli", module + "/internal/dlq", module + "/internal/devenv", module + "/internal/demo", module + "/internal/ops", "github.com/lovoo/goka", "github.com/IBM/sarama"},
	"internal/kafkaconn/kafkasarama": {module + "/pipeline", module + "/processors", module + "/codecs", module + "/registry/...", module + "/internal/cli", module + "/internal/dlq", module + "/internal/devenv", "github.com/lovoo/goka"},
}

// testTools are commands that are tests in all but name: the benchmark
// harness runs testing.Benchmark and checks every contestant's outputs
// against the test kit's oracle.
var testTools = []string{module + "/bench"}

type pkgInfo struct {
	imports []string // direct, non-test
	deps    []string // transitive, non-test
}

func listPackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \",\"}}|{{join .Deps \",\"}}", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		parts := strings.SplitN(sc.Text(), "|", 3)
		if len(parts) != 3 {
			t.Fatalf("go list line %q", sc.Text())
		}
		pkgs[parts[0]] = pkgInfo{imports: strings.Split(parts[1], ","), deps: strings.Split(parts[2], ",")}
	}
	return pkgs
}

// TestImportRules keeps the package graph the docs describe: leaf packages
// stay leaves, and no production package reaches the test kit or imports
// "testing".
func TestImportRules(t *testing.T) {
	pkgs := listPackages(t)
	for rel, rules := range importRules {
		info, ok := pkgs[module+"/"+rel]
		if !ok {
			t.Errorf("package %s in importRules does not exist", rel)
			continue
		}
		for _, dep := range info.deps {
			if dep == "" || dep == module+"/"+rel {
				continue
			}
			for _, b := range rules {
				if banned(dep, b) {
					t.Errorf("%s depends on %s; its doc comment says it must not", rel, dep)
				}
			}
		}
	}
	for path, info := range pkgs {
		if path == module+"/internal/testkit" || slices.Contains(testTools, path) {
			continue // the kit itself, and the tools that are tests
		}
		if slices.Contains(info.imports, "testing") {
			t.Errorf("%s (production code) imports testing", path)
		}
		if slices.Contains(info.deps, module+"/internal/testkit") {
			t.Errorf("%s (production code) depends on internal/testkit", path)
		}
	}
}

// banned reports whether dep is what rule names.
func banned(dep, rule string) bool {
	switch {
	case rule == "std":
		return isNonStd(dep)
	case strings.HasSuffix(rule, "/..."):
		return strings.HasPrefix(dep, strings.TrimSuffix(rule, "..."))
	default:
		return dep == rule
	}
}

// isNonStd reports whether an import path is outside the standard library
// (its first element has a dot, as module paths do).
func isNonStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return strings.Contains(first, ".")
}
