package consultest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables read by [Binary] and [Start].
const (
	// EnvBinary names the Consul binary to run, overriding bin/consul.
	EnvBinary = "CTPL_CONSUL_BIN"
	// EnvRequire, set to "1", makes a missing binary fail the test instead
	// of skipping it.
	EnvRequire = "CTPL_REQUIRE_CONSUL"
)

const modulePath = "github.com/ctpl/ctpl"

// Binary returns the path of the Consul binary tests run: $CTPL_CONSUL_BIN
// when it is set, otherwise bin/consul at the repository root. The error says
// why no binary is available.
func Binary() (string, error) {
	if p := os.Getenv(EnvBinary); p != "" {
		if err := checkExecutable(p); err != nil {
			return "", fmt.Errorf("%s: %w", EnvBinary, err)
		}
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, "bin", "consul")
	if err := checkExecutable(p); err != nil {
		return "", err
	}
	return p, nil
}

func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

// repoRoot walks up from the working directory to the directory whose go.mod
// declares this module.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for dir := wd; ; {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && moduleLine(data) == modulePath {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find repository root: no go.mod for module %s above %s", modulePath, wd)
		}
		dir = parent
	}
}

// moduleLine returns the module path declared in a go.mod file.
func moduleLine(gomod []byte) string {
	for line := range strings.Lines(string(gomod)) {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// requireBinary returns the Consul binary, or skips the test (fails it when
// EnvRequire is "1") and returns "" when there is none.
func requireBinary(t TB) string {
	t.Helper()
	bin, err := Binary()
	if err == nil {
		return bin
	}
	msg := fmt.Sprintf("consultest: no Consul binary (%v); build it with `make consul` "+
		"at the repository root, or set %s to a Consul binary", err, EnvBinary)
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s [%s=1 makes this a failure]", msg, EnvRequire)
	} else {
		t.Skip(msg)
	}
	return ""
}
