package main

import (
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLanguageConfigDefaultsAndOverrides(t *testing.T) {
	yaml := `
template_defaults:
  left_delimiter: "[["
  right_delimiter: "]]"
  error_on_missing_key: true
  function_denylist: ["sprig_*"]
  function_blacklist: ["env"]
  sandbox_path: /srv/ctpl
  allow_functions: [plugin]
  max_output_bytes: 1048576
  max_render_time: 5s
templates:
  - contents: "a"
    destination: /tmp/a
  - contents: "b"
    destination: /tmp/b
    left_delimiter: "<%"
    right_delimiter: "%>"
    error_on_missing_key: false
    function_denylist: []
    sandbox_path: /srv/other
    allow_functions: [plugin, writeToFile]
    max_output_bytes: 2048
    max_render_time: 1s
`
	cfg := DefaultConfig()
	if err := decode(&cfg, "c.yaml", []byte(yaml)); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		i           int
		left, right string
		missingKey  bool
		deny, allow []string
		sandbox     string
		maxOutput   int
		maxTime     time.Duration
	}{
		{name: "defaults", i: 0, left: "[[", right: "]]", missingKey: true, deny: []string{"sprig_*", "env"},
			allow: []string{"plugin"}, sandbox: "/srv/ctpl", maxOutput: 1 << 20, maxTime: 5 * time.Second},
		{name: "overrides", i: 1, left: "<%", right: "%>", missingKey: false, deny: []string{},
			allow: []string{"plugin", "writeToFile"}, sandbox: "/srv/other", maxOutput: 2048, maxTime: time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := languageOptions(cfg, cfg.Templates[tc.i])
			if err != nil || o.LeftDelim != tc.left || o.RightDelim != tc.right || o.ErrOnMissingKey != tc.missingKey ||
				!slices.Equal(o.Denylist, tc.deny) || !slices.Equal(o.Allow, tc.allow) || o.SandboxPath != tc.sandbox ||
				o.MaxOutput != tc.maxOutput || o.MaxRenderTime != tc.maxTime {
				t.Fatalf("got %+v", o)
			}
		})
	}
}

func TestLanguageConfigErrorsNameTheProblem(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "t.tmpl")
	if err := os.WriteFile(src, []byte("x\n{{ plugin \"date\" }}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		tc      TemplateConfig
		wantErr string
	}{
		{name: "plugin not allowed", tc: TemplateConfig{Source: src},
			wantErr: src + `:2:4: function "plugin" is denied: it is disabled unless allow_functions lists it`},
		{name: "plugin denied", tc: TemplateConfig{Source: src, LanguageConfig: LanguageConfig{
			AllowFunctions: []string{"plugin"}, FunctionDenylist: []string{"p*"}}},
			wantErr: `function "plugin" is denied: function_denylist denies it ("p*")`},
		{name: "unknown function allowed", tc: TemplateConfig{Source: src, LanguageConfig: LanguageConfig{
			AllowFunctions: []string{"exec"}}},
			wantErr: `allow_functions: "exec" cannot be allowed`},
		{name: "plugin allowed", tc: TemplateConfig{Source: src, Destination: filepath.Join(dir, "out"),
			LanguageConfig: LanguageConfig{AllowFunctions: []string{"plugin"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildTemplate(DefaultConfig(), tc.tc)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestSandboxThroughTheCommand runs ctpl -once on templates reading files
// inside and outside sandbox_path: the first renders, the second fails
// naming its file, line and column, and its destination is not touched.
func TestSandboxThroughTheCommand(t *testing.T) {
	dir := t.TempDir()
	sandbox := filepath.Join(dir, "sandbox")
	if err := os.Mkdir(sandbox, 0o755); err != nil {
		t.Fatal(err)
	}
	inside := writeFile(t, filepath.Join(sandbox, "in.txt"), "inside")
	outside := writeFile(t, filepath.Join(dir, "secret.txt"), "secret")
	if err := os.Symlink(outside, filepath.Join(sandbox, "link.txt")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantOut string // "" when the run must fail
	}{
		{name: "inside", path: inside, wantOut: "[inside]"},
		{name: "through a symlink out", path: filepath.Join(sandbox, "link.txt")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFile(t, filepath.Join(t.TempDir(), "t.tmpl"), "x\n[{{ file \""+tc.path+"\" }}]")
			out := filepath.Join(t.TempDir(), "out")
			cfg := writeFile(t, filepath.Join(t.TempDir(), "c.yaml"), "template_defaults:\n  sandbox_path: "+sandbox+
				"\ntemplates:\n  - source: "+src+"\n    destination: "+out+"\n")
			var stderr syncBuffer
			code := run(t.Context(), []string{"-once", "-once-timeout", "20s", "-config", cfg}, io.Discard, &stderr)
			b, _ := os.ReadFile(out)
			if tc.wantOut != "" {
				if code != 0 || string(b) != "x\n"+tc.wantOut {
					t.Fatalf("exit %d, output %q, stderr %s", code, b, stderr.String())
				}
				return
			}
			if code == 0 || b != nil || !strings.Contains(stderr.String(), src+":2:4") || !strings.Contains(stderr.String(), "outside the sandbox") {
				t.Fatalf("exit %d, output %q, stderr %s; want a failure naming %s:2:4", code, b, stderr.String(), src)
			}
		})
	}
}
