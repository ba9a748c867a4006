package buildinfo

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestResolveFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/sluicehq/sluice", Version: "v0.4.0"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	got := resolve("", "", bi)
	want := Info{Version: "v0.4.0", Commit: "0123456789abcdef0123456789abcdef01234567-dirty", GoVersion: "go1.26.8"}
	if got != want {
		t.Fatalf("resolve = %+v, want %+v", got, want)
	}
}

func TestResolveLdflagsWin(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Version: "(devel)"},
		Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "fedcba"}},
	}
	got := resolve("v1.2.3", "abc123", bi)
	want := Info{Version: "v1.2.3", Commit: "abc123", GoVersion: "go1.26.8"}
	if got != want {
		t.Fatalf("resolve = %+v, want %+v", got, want)
	}
}

func TestResolveWithoutBuildInfo(t *testing.T) {
	got := resolve("", "", nil)
	want := Info{Version: "unknown", Commit: "unknown", GoVersion: runtime.Version()}
	if got != want {
		t.Fatalf("resolve = %+v, want %+v", got, want)
	}
	if s := got.String(); s != "sluice unknown (commit unknown, "+runtime.Version()+")" {
		t.Fatalf("String = %q", s)
	}
}
