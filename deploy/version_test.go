package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dockerLdflags is the -ldflags value of the Dockerfile's go build.
var dockerLdflags = regexp.MustCompile(`go build [^&]*-ldflags="([^"]*)"`)

// TestDockerfileStampsVersion builds a binary with the -ldflags of the
// Dockerfile's go build, its VERSION and COMMIT build arguments filled in,
// and checks that the binary reports them: a wrong variable path in -X
// would be ignored silently by the linker.
func TestDockerfileStampsVersion(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(b), "\\\n", " ")
	for _, arg := range []string{"ARG VERSION", "ARG COMMIT"} {
		if !strings.Contains(text, "\n"+arg) {
			t.Errorf("the Dockerfile declares no %s", arg)
		}
	}
	m := dockerLdflags.FindStringSubmatch(text)
	if m == nil {
		t.Fatal("the Dockerfile's go build passes no -ldflags")
	}
	flags := strings.NewReplacer("${VERSION}", "v7.7.7", "${COMMIT}", "c0ffee").Replace(m[1])
	bin := filepath.Join(t.TempDir(), "printinfo")
	build := exec.Command("go", "build", "-buildvcs=false", "-ldflags", flags, "-o", bin, "./internal/buildinfo/testdata/printinfo")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -ldflags %q: %v\n%s", flags, err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Version, Commit string }
	if err := json.Unmarshal(out, &info); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	if info.Version != "v7.7.7" || info.Commit != "c0ffee" {
		t.Errorf("a binary built with the Dockerfile's -ldflags %q reports version %q and commit %q, want v7.7.7 and c0ffee", m[1], info.Version, info.Commit)
	}
}
