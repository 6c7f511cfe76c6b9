package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

// builds are the executables Build made in this test binary, by package.
var builds struct {
	mu   sync.Mutex
	dir  string
	path map[string]string
	err  map[string]error
}

// Build compiles the Go package pkg (an import path such as
// github.com/ctpl/ctpl/cmd/ctpl) once per test binary and returns the
// executable's path. A test package that calls it removes the builds with
// RemoveBuilds from its TestMain.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.path == nil {
		builds.path, builds.err = map[string]string{}, map[string]error{}
	}
	if p, ok := builds.path[pkg]; ok {
		return p
	}
	if err, ok := builds.err[pkg]; ok {
		t.Fatal(err)
	}
	p, err := build(pkg)
	if err != nil {
		builds.err[pkg] = err
		t.Fatal(err)
	}
	builds.path[pkg] = p
	return p
}

// build runs go build for pkg into the shared temporary directory.
func build(pkg string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s: %w", pkg, err)
	}
	if builds.dir == "" {
		if builds.dir, err = os.MkdirTemp("", "ctpl-test-bin-"); err != nil {
			return "", fmt.Errorf("build %s: %w", pkg, err)
		}
	}
	out := filepath.Join(builds.dir, path.Base(pkg))
	if b, err := exec.Command(goTool, "build", "-o", out, pkg).CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %w\n%s", pkg, err, b)
	}
	return out, nil
}

// RemoveBuilds deletes every executable Build made.
func RemoveBuilds() {
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.dir != "" {
		os.RemoveAll(builds.dir)
	}
}
