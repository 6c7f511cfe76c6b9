package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckLocations: errors of the config itself, of an inline template
// and of a query in it are located in the config file, in every format;
// warnings are reported; a bad flag says so.
func TestCheckLocations(t *testing.T) {
	dir := t.TempDir()
	badYAML := writeFile(t, filepath.Join(dir, "bad.yaml"), "templates:\n  - source: x\n   destination: y\n")
	inline := writeFile(t, filepath.Join(dir, "inline.yaml"), `templates:
  - destination: `+filepath.Join(dir, "a")+`
    contents: "ok"
  - destination: `+filepath.Join(dir, "b")+`
    contents: "{{ service \"web|sick\" }}\n{{ .Address"
  - destination: `+filepath.Join(dir, "d")+`
    source: `+filepath.Join(dir, "nonexistent.tmpl")+`
  - destination: `+filepath.Join(dir, "e")+`
    contents: '{{ define "a" }}{{ end }}{{ template "a" }}{{ template "b" }}'
`)
	ctHCL := writeFile(t, filepath.Join(dir, "ct.hcl"), "vault {\n  address = \"https://vault:8200\"\n}\ntemplate {\n  contents = \"{{ key \\\"\\\" }}\"\n  destination = \""+filepath.Join(dir, "c")+"\"\n}\n")

	tests := []struct {
		name   string
		args   []string
		want   int
		output []string
	}{
		{name: "YAML syntax error", args: []string{"check", "-format", "json", "-config", badYAML}, want: exitConfig,
			output: []string{`"file": "` + badYAML + `"`, `"line": 1`}},
		{name: "inline template, text", args: []string{"check", "-config", inline}, want: exitConfig,
			output: []string{inline + ":4: templates[2] contents: inline:2:1: unclosed action",
				inline + ":6: templates[3] source: template: open " + filepath.Join(dir, "nonexistent.tmpl"),
				inline + `:8: templates[4] contents: inline:1:55: template "b" is not defined`}},
		{name: "inline template, GitHub annotations", args: []string{"check", "-format", "github", "-config", inline}, want: exitConfig,
			output: []string{"::error file=" + inline + ",line=4::" + inline + ":4: templates[2] contents: inline:2:1"}},
		{name: "query in an HCL inline template; warnings", args: []string{"check", "-format", "json", "-config", ctHCL}, want: exitConfig,
			output: []string{`"file": "` + ctHCL + `"`, `"line": 4`, `key \"\": empty key`, `"warnings": [`, "vault: ignored"}},
		{name: "-parse-only with check's flags", args: []string{"-parse-only", "-format", "json", "-config", inline}, want: exitConfig,
			output: []string{`"ok": false`}},
		{name: "-parse-only=false is no check", args: []string{"-parse-only=false", "-format", "json", "-config", inline}, want: exitFlags},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := runCtpl(t, tc.args...)
			if code != tc.want {
				t.Fatalf("exit %d, want %d; stdout:\n%s\nstderr:\n%s", code, tc.want, stdout, stderr)
			}
			if strings.Contains(strings.Join(tc.args, " "), "json") && code == exitConfig && !json.Valid([]byte(stdout)) {
				t.Errorf("not JSON:\n%s", stdout)
			}
			for _, want := range tc.output {
				if !strings.Contains(stdout, want) {
					t.Errorf("stdout does not hold %q:\n%s", want, stdout)
				}
			}
		})
	}
}

// TestCheckFlags: a subcommand's bad flag is named; -h lists its flags.
func TestCheckFlags(t *testing.T) {
	code, _, stderr := runCtpl(t, "check", "-formt", "json")
	if code != exitFlags || !strings.Contains(stderr, "-formt") {
		t.Errorf("exit %d, want %d naming -formt; stderr:\n%s", code, exitFlags, stderr)
	}
	code, _, stderr = runCtpl(t, "snapshot", "-h")
	if code != exitOK || !strings.Contains(stderr, "-exclude-kv") {
		t.Errorf("snapshot -h exited %d, want %d listing -exclude-kv; stderr:\n%s", code, exitOK, stderr)
	}
}

func TestGitHubEscapes(t *testing.T) {
	if got, want := ghProperty("a:b,c%d\ne"), "a%3Ab%2Cc%25d%0Ae"; got != want {
		t.Errorf("ghProperty: %q, want %q", got, want)
	}
	if got, want := ghData("a:b,c%d\r\ne"), "a:b,c%25d%0D%0Ae"; got != want {
		t.Errorf("ghData: %q, want %q", got, want)
	}
}
