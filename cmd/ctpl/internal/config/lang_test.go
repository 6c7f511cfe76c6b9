package config

import (
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
	cfg := Default()
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
			_, err := buildTemplate(Default(), tc.tc)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}

func TestRenderLimitsMustBePositive(t *testing.T) {
	tests := []struct {
		name    string
		lang    LanguageConfig
		wantErr string
	}{
		{name: "output", lang: LanguageConfig{MaxOutputBytes: -1}, wantErr: "max_output_bytes -1: want a number of bytes above 0"},
		{name: "time", lang: LanguageConfig{MaxRenderTime: -time.Second}, wantErr: "max_render_time -1s: want a duration above 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := buildTemplate(Default(), TemplateConfig{Contents: "x", Destination: "/tmp/x", LanguageConfig: tc.lang})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
			}
		})
	}
}
