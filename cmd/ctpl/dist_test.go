package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

func TestVersionFromBuildInfo(t *testing.T) {
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		name            string
		version, commit string // stamped
		info            *debug.BuildInfo
		wantV, wantC    string
	}{
		{name: "make build", version: "v1.2.3", commit: "abc", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}},
			wantV: "v1.2.3", wantC: "abc"},
		{name: "go install @version", version: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}},
			wantV: "v1.2.3", wantC: "unknown"},
		{name: "go install @commit", version: "dev",
			info:  &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261203154400-abcdef123456"}},
			wantV: "v0.0.0-20261203154400-abcdef123456", wantC: "abcdef123456"},
		{name: "go build in a checkout", version: "dev", info: &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs},
			wantV: "dev", wantC: "0123456789abcdef-dirty"},
		{name: "no build info", version: "dev", wantV: "dev", wantC: "unknown"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, c := versionFrom(tc.version, tc.commit, tc.info)
			if v != tc.wantV || c != tc.wantC {
				t.Errorf("versionFrom = %q, %q; want %q, %q", v, c, tc.wantV, tc.wantC)
			}
		})
	}
}

// TestDistBinary builds ctpl as `make dist` does (for this machine's
// architecture only) and checks that the binary is static, prints the
// stamped version, passes `ctpl check` on each recipe and renders it
// (-once -dry) from a real Consul agent.
func TestDistBinary(t *testing.T) {
	makeTool, err := exec.LookPath("make")
	if err != nil {
		t.Skip("make is not installed")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	dist := t.TempDir()
	cmd := exec.Command(makeTool, "-s", "-C", root, "dist", "DIST="+dist, "VERSION=v9.9.9-test", "COMMIT=0123abcd",
		"DIST_ARCHES="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist: %v\n%s", err, out)
	}
	bin := filepath.Join(dist, "ctpl-linux-"+runtime.GOARCH)
	sums, _ := os.ReadFile(filepath.Join(dist, "SHA256SUMS"))
	if !strings.Contains(string(sums), "  ctpl-linux-"+runtime.GOARCH+"\n") {
		t.Errorf("SHA256SUMS lacks the binary:\n%s", sums)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the dist binary is dynamically linked")
		}
	}
	f.Close()
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "ctpl v9.9.9-test (commit 0123abcd, ") {
		t.Fatalf("-version: %v %q", err, out)
	}

	agent := consultest.Start(t)
	agent.RegisterService(t, consultest.Service{Node: "n1", Address: "10.0.0.7", ID: "web-1", Name: "web", Port: 8080,
		Tags: []string{"http"}})
	for _, recipe := range []string{"nginx", "haproxy", "dnsmasq"} {
		t.Run(recipe, func(t *testing.T) {
			dir := filepath.Join(root, "examples", recipe)
			b, err := os.ReadFile(filepath.Join(dir, "ctpl.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(t.TempDir(), "ctpl.yaml")
			yaml := strings.ReplaceAll(string(b), "/etc/ctpl/"+recipe+"/", dir+"/")
			if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bin, "check", "-config", cfg).CombinedOutput(); err != nil {
				t.Errorf("ctpl check: %v\n%s", err, out)
			}
			out, err := exec.Command(bin, "-config", cfg, "-consul-addr", agent.Addr(), "-once", "-dry",
				"-log-level", "warn").CombinedOutput()
			if err != nil || !strings.Contains(string(out), "10.0.0.7") {
				t.Errorf("-once -dry: %v\n%s", err, out)
			}
		})
	}
}
