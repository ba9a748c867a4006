package buildinfo_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sluicehq/sluice/internal/buildinfo"
)

// TestLdflags builds a binary the way the Dockerfile does, with -ldflags -X,
// and reads back what it reports.
func TestLdflags(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "printinfo")
	const pkg = "github.com/sluicehq/sluice/internal/buildinfo"
	build := exec.Command("go", "build", "-buildvcs=false", "-o", bin,
		"-ldflags", "-X "+pkg+".version=v9.8.7 -X "+pkg+".commit=feedface", "./testdata/printinfo")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("running %s: %v", bin, err)
	}
	var got buildinfo.Info
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("decoding %q: %v", out, err)
	}
	if got.Version != "v9.8.7" || got.Commit != "feedface" || got.GoVersion != runtime.Version() {
		t.Fatalf("binary reports %+v, want version v9.8.7, commit feedface, %s", got, runtime.Version())
	}
}
