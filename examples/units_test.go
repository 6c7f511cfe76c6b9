package examples_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemdUnits verifies each recipe's unit file with systemd-analyze,
// where it exists.
func TestSystemdUnits(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: unit files not verified")
	}
	units := []string{
		"nginx/ctpl-nginx.service", "haproxy/ctpl-haproxy.service", "dnsmasq/ctpl-dnsmasq.service",
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, unit := range units {
		t.Run(filepath.Base(unit), func(t *testing.T) {
			b, err := os.ReadFile(unit)
			if err != nil {
				t.Fatal(err)
			}
			text := string(b)
			for _, want := range []string{"ExecReload=/bin/kill -HUP $MAINPID", "ProtectSystem=strict", "NoNewPrivileges=yes"} {
				if !strings.Contains(text, want) {
					t.Errorf("%s lacks %q", unit, want)
				}
			}
			// verify wants ExecStart's binary to exist: point it at one that does.
			tmp := filepath.Join(t.TempDir(), filepath.Base(unit))
			if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(text, "/usr/local/bin/ctpl", self)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(analyze, "verify", tmp).CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != "" {
				t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
			}
		})
	}
}
