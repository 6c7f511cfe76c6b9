package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
)

// TestSystemdExample keeps examples/systemd loadable: its config passes
// validation and, where systemd-analyze exists, its unit file verifies.
func TestSystemdExample(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "systemd")
	cfg := config.Default()
	if err := config.LoadFile(&cfg, filepath.Join(dir, "ctpl.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.MetricsAddr == "" {
		t.Error("the example enables no metrics listener")
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: unit file not verified")
	}
	unit, err := os.ReadFile(filepath.Join(dir, "ctpl.service"))
	if err != nil {
		t.Fatal(err)
	}
	// verify wants the ExecStart binary to exist: point it at one that does.
	self, _ := os.Executable()
	tmp := filepath.Join(t.TempDir(), "ctpl.service")
	if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/ctpl", self)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", tmp).CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestVersionString(t *testing.T) {
	defer func(v, c string) { version, commit = v, c }(version, commit)
	version, commit = "v1.2.3", "0123abcd"
	got := versionString()
	for _, want := range []string{"ctpl v1.2.3", "commit 0123abcd", "go1."} {
		if !strings.Contains(got, want) {
			t.Errorf("versionString() = %q, lacks %q", got, want)
		}
	}
	version, commit = "dev", ""
	if got := versionString(); !strings.Contains(got, "commit ") {
		t.Errorf("unstamped versionString() = %q", got)
	}
}
