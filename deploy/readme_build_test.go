package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	goBlock    = regexp.MustCompile("(?s)```go\n(.*?)```")
	modBlock   = regexp.MustCompile("(?s)```\n(module .*?)```")
	replaceDir = regexp.MustCompile(`(?m)^(replace github\.com/sluicehq/sluice => )(\S+)$`)
)

// readmeSection returns the README's section under the heading "## title".
func readmeSection(t *testing.T, title string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", readmeFile))
	if err != nil {
		t.Fatal(err)
	}
	_, sec, ok := strings.Cut(string(b), "\n## "+title+"\n")
	if !ok {
		t.Fatalf("%s has no section %q", readmeFile, title)
	}
	sec, _, _ = strings.Cut(sec, "\n## ")
	return sec
}

// TestReadmeCustomBinaryBuilds builds the README's "Building your own
// binary" main.go as printed, in a module of its own made from the go.mod
// the "Install" section prints, whose replace directive is pointed at this
// clone: what a user who copies both gets. The section's second Go block
// is the step's main_test.go, which it runs there.
func TestReadmeCustomBinaryBuilds(t *testing.T) {
	blocks := goBlock.FindAllStringSubmatch(readmeSection(t, "Building your own binary"), -1)
	mod := modBlock.FindStringSubmatch(readmeSection(t, "Install"))
	if len(blocks) < 2 || mod == nil {
		t.Fatalf("%s: want a main.go and a main_test.go ```go block under \"Building your own binary\" and a go.mod block under \"Install\"", readmeFile)
	}
	src, test := blocks[0], blocks[1]
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if !replaceDir.MatchString(mod[1]) {
		t.Fatalf("%s: the go.mod block has no replace directive for github.com/sluicehq/sluice:\n%s", readmeFile, mod[1])
	}
	gomod := replaceDir.ReplaceAllString(mod[1], "${1}"+root)
	// The dependencies' checksums: go mod tidy would write the same ones.
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, text := range map[string]string{"go.mod": gomod, "go.sum": string(sum), "main.go": src[1], "main_test.go": test[1]} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.CommandContext(t.Context(), "go", "build", "-mod=mod", "-o", filepath.Join(dir, "mysluice"), ".")
	cmd.Dir = dir
	// Offline: everything comes from the module cache this module was built with.
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build of the README's main.go with its go.mod: %v\n%s", err, out)
	}
	cmd = exec.CommandContext(t.Context(), "go", "test", "-mod=mod", "-count=1", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOPROXY=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go test of the README's main_test.go: %v\n%s", err, out)
	}
}
