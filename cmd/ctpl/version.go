package main

import (
	"cmp"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Stamped at build time by `make build` and `make dist`:
//
//	-ldflags "-X main.version=$(git describe) -X main.commit=$(git rev-parse HEAD)"
//
// Unstamped, the Go toolchain's build info says what it knows: `go install
// github.com/ctpl/ctpl/cmd/ctpl@v1.2.3` records the module version (and a
// pseudo-version names its commit), `go build` in a checkout the commit.
var (
	version = "dev"
	commit  = ""
)

// versionString is what -version prints.
func versionString() string {
	info, _ := debug.ReadBuildInfo()
	v, c := versionFrom(version, commit, info)
	return fmt.Sprintf("ctpl %s (commit %s, %s %s/%s)", v, c, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// commitID is the commit ctpl_build_info names.
func commitID() string {
	info, _ := debug.ReadBuildInfo()
	_, c := versionFrom(version, commit, info)
	return c
}

// versionFrom returns the version and commit: the stamped ones, else those
// the build info records, else "dev" and "unknown".
func versionFrom(stamped, stampedCommit string, info *debug.BuildInfo) (v, c string) {
	v, c = stamped, stampedCommit
	if info == nil {
		return v, cmp.Or(c, "unknown")
	}
	if v == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		v = info.Main.Version
	}
	if c == "" {
		c = vcsCommit(info)
	}
	if c == "" {
		c = pseudoCommit(info.Main.Version)
	}
	return v, cmp.Or(c, "unknown")
}

// vcsCommit is the commit `go build` recorded in a checkout, "-dirty" when
// the tree had changes.
func vcsCommit(info *debug.BuildInfo) string {
	rev, dirty := "", false
	for _, s := range info.Settings {
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

// pseudoCommit is the commit prefix a pseudo-version ends with
// (v0.0.0-20261203154400-abcdef123456), or "".
func pseudoCommit(v string) string {
	i := strings.LastIndexByte(v, '-')
	if i < 0 || strings.Count(v, "-") < 2 {
		return ""
	}
	h := strings.TrimSuffix(v[i+1:], "+incompatible")
	if len(h) != 12 || strings.Trim(h, "0123456789abcdef") != "" {
		return ""
	}
	return h
}
