package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Stamped at build time by `make build`:
//
//	-ldflags "-X main.version=$(git describe) -X main.commit=$(git rev-parse HEAD)"
var (
	version = "dev"
	commit  = ""
)

// commitID is the stamped commit, else the one the Go toolchain recorded,
// else "unknown".
func commitID() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
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
		if rev != "" {
			return rev
		}
	}
	return "unknown"
}

// versionString is what -version prints.
func versionString() string {
	v := version
	if v == "dev" {
		if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
			v = info.Main.Version
		}
	}
	return fmt.Sprintf("ctpl %s (commit %s, %s %s/%s)", v, commitID(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
