// Package buildinfo says which sluice this binary is: its version, the commit
// it was built from and the Go version that built it.
//
// The version and commit are set at build time with
//
//	go build -ldflags "-X github.com/sluicehq/sluice/internal/buildinfo.version=v1.2.3 -X github.com/sluicehq/sluice/internal/buildinfo.commit=abc123"
//
// and otherwise read from the module and VCS information the Go toolchain
// stamps into the binary (debug.ReadBuildInfo). It imports the standard
// library only.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set with -ldflags -X; never assigned at run time.
var (
	version string
	commit  string
)

// Info identifies a sluice binary.
type Info struct {
	Version   string `json:"version"`
	Commit    string `json:"commit"`
	GoVersion string `json:"go_version"`
}

// Get returns the binary's build information. What -ldflags set wins; the
// rest comes from debug.ReadBuildInfo: the main module's version (a tag when
// built with `go install module@version`, "(devel)" in a checkout) and the
// vcs.revision setting (with "-dirty" when vcs.modified). Unknown values are
// "unknown".
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return resolve(version, commit, bi)
}

// resolve merges the -ldflags values with bi (which may be nil).
func resolve(ldVersion, ldCommit string, bi *debug.BuildInfo) Info {
	info := Info{Version: ldVersion, Commit: ldCommit, GoVersion: runtime.Version()}
	if bi != nil {
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		if info.Version == "" && bi.Main.Version != "" {
			info.Version = bi.Main.Version
		}
		if info.Commit == "" {
			info.Commit = revision(bi.Settings)
		}
	}
	if info.Version == "" {
		info.Version = "unknown"
	}
	if info.Commit == "" {
		info.Commit = "unknown"
	}
	return info
}

// revision returns vcs.revision, marked "-dirty" when vcs.modified is true.
func revision(settings []debug.BuildSetting) string {
	rev, dirty := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}

// String is the one-line form `sluice version` prints.
func (i Info) String() string {
	return "sluice " + i.Version + " (commit " + i.Commit + ", " + i.GoVersion + ")"
}
