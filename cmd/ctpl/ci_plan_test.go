package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/renderer"
)

// listTree returns every path below dir with its content, to show that a
// command changed nothing.
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPlanWritesAndRunsNothing: plan prints the diff, the summary and the
// commands, exits 2, and leaves every file as it was, though the template
// calls writeToFile and plugin and has a command; after a render it exits 0.
func TestPlanWritesAndRunsNothing(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "data.yaml"), ciData)
	base := writeFile(t, filepath.Join(dir, "base.yaml"), strings.Replace(ciData, "web-2, node: n2", "web-9, node: n2", 1))
	marker := filepath.Join(dir, "marker")
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), ciTemplate+
		`{{ "x" | writeToFile "`+filepath.Join(dir, "written")+`" "" "" "0644" }}{{ plugin "touch" "`+marker+`-plugin" }}`)
	dest := filepath.Join(dir, "out", "web.conf")
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), "templates:\n  - source: "+tmpl+"\n    destination: "+dest+
		"\n    command: \"touch "+marker+"\"\n    allow_functions: [writeToFile, plugin]\n")
	before := listTree(t, dir)

	code, stdout, stderr := runCtpl(t, "plan", "-config", cfg, "-data", data, "-base", base)
	if code != exitPlanChanges {
		t.Fatalf("plan exited %d, want %d; stderr:\n%s\nstdout:\n%s", code, exitPlanChanges, stderr, stdout)
	}
	for _, want := range []string{"+ " + dest + ": would be created", "--- /dev/null", "+++ " + dest,
		"+shop: 10.0.0.1:80 10.0.0.2:80", "would run: touch " + marker, "health.service(web): 2 (+1 -1)",
		"+ n2/web-2", "- n2/web-9", "\nrecords per query (instances, nodes or keys):\n", "queries: 2 Consul queries held"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan does not print %q:\n%s", want, stdout)
		}
	}
	after := listTree(t, dir)
	if len(after) != len(before) {
		t.Errorf("plan changed the files: before %d, after %d: %v", len(before), len(after), after)
	}
	for p, b := range before {
		if after[p] != b {
			t.Errorf("plan changed %s", p)
		}
	}

	if code, _, stderr := runCtpl(t, "-config", cfg, "-once", "-data", data); code != exitOK {
		t.Fatalf("render exited %d:\n%s", code, stderr)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the render ran no command (the plan test's control): %v", err)
	}
	code, stdout, _ = runCtpl(t, "plan", "-config", cfg, "-data", data)
	if code != exitOK || !strings.Contains(stdout, "= "+dest+": no change") {
		t.Errorf("plan after the render exited %d, want %d:\n%s", code, exitOK, stdout)
	}
	if code, _, _ := runCtpl(t, "plan", "-config", cfg, "-data", filepath.Join(dir, "nope.yaml")); code != exitPlanError {
		t.Errorf("plan with a missing data file exited %d, want %d", code, exitPlanError)
	}
}

// TestTemplateTests runs `ctpl test` on the recipes of examples/, then on
// a case whose golden is wrong (exit 1, a diff), then with -update.
func TestTemplateTests(t *testing.T) {
	t.Setenv("CTPL_DNS_DOMAIN", "")
	os.Unsetenv("CTPL_DNS_DOMAIN") // the recipes' goldens use the default domain
	code, stdout, stderr := runCtpl(t, "test", "../../examples")
	if code != exitOK || strings.Count(stdout, "ok   ") < 6 {
		t.Fatalf("ctpl test examples exited %d:\n%s%s", code, stdout, stderr)
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "web.tmpl"), ciTemplate)
	if err := os.MkdirAll(filepath.Join(dir, "testdata", "web"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "testdata", "web", "basic.yaml"), ciData)
	golden := writeFile(t, filepath.Join(dir, "testdata", "web", "basic.golden"), "shop: 10.0.0.1:80\n")
	writeFile(t, filepath.Join(dir, "testdata", "web", "right.yaml"), ciData)
	writeFile(t, filepath.Join(dir, "testdata", "web", "right.golden"), "shop: 10.0.0.1:80 10.0.0.2:80\n")
	code, stdout, _ = runCtpl(t, "test", dir)
	if code != exitTestFailed || !strings.Contains(stdout, "FAIL ") || !strings.Contains(stdout, "+shop: 10.0.0.1:80 10.0.0.2:80") {
		t.Fatalf("a wrong golden: exit %d, want %d with a diff:\n%s", code, exitTestFailed, stdout)
	}
	if code, stdout, _ = runCtpl(t, "test", "-update", dir); code != exitOK {
		t.Fatalf("-update exited %d:\n%s", code, stdout)
	}
	if !strings.Contains(stdout, "updated "+golden) || strings.Contains(stdout, "right.golden") {
		t.Errorf("-update must rewrite the wrong golden alone:\n%s", stdout)
	}
	if b, _ := os.ReadFile(golden); string(b) != "shop: 10.0.0.1:80 10.0.0.2:80\n" {
		t.Errorf("-update wrote %q", b)
	}

	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), "templates:\n  - source: "+filepath.Join(dir, "gone.tmpl")+"\n    destination: /x\n")
	code, _, stderr = runCtpl(t, "test", "-config", cfg)
	if want := cfg + ":2: templates[1] source: template: stat " + filepath.Join(dir, "gone.tmpl"); code != exitConfig || !strings.Contains(stderr, want) {
		t.Errorf("a configured template that does not exist: exit %d, want %d saying %q; stderr:\n%s", code, exitConfig, want, stderr)
	}
}

// TestPlanWaitingKey: a template waiting for a key that does not exist
// ends the plan at once (exit 1) naming the query, with or without
// -data-missing=empty; it does not read the key over and over.
func TestPlanWaitingKey(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "data.yaml"), ciData)
	tests := []struct {
		name, missing, template string
		want                    []string
	}{
		{name: "known absent", missing: "error", template: `{{ key "app/retired" }}{{ range service "web" }}{{ .ID }}{{ end }}`,
			want: []string{"kv.get(app/retired): the template waits for it"}},
		{name: "missing read as empty", missing: "empty", template: `{{ key "app/retired" }}{{ key "app/never" }}`,
			want: []string{"kv.get(app/retired): the template waits for it", "kv.get(app/never): the template waits for it"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), tc.template)
			code, _, stderr := runCtpl(t, "plan", "-data", data, "-data-missing", tc.missing, "-template", tmpl+":"+filepath.Join(dir, "out"))
			if code != exitPlanError {
				t.Errorf("plan exited %d, want %d; stderr:\n%s", code, exitPlanError, stderr)
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not say %q:\n%s", want, stderr)
				}
			}
		})
	}
}

// TestPlanCommandList: a command given as a list is printed as a shell
// would read it.
func TestPlanCommandList(t *testing.T) {
	dir := t.TempDir()
	data := writeFile(t, filepath.Join(dir, "data.yaml"), ciData)
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), "templates:\n  - contents: x\n    destination: "+filepath.Join(dir, "out")+
		"\n    command: [touch, \"a b\"]\n")
	code, stdout, stderr := runCtpl(t, "plan", "-config", cfg, "-data", data)
	if code != exitPlanChanges || !strings.Contains(stdout, "would run: touch 'a b'\n") {
		t.Errorf("plan exited %d, want %d naming the command as a shell reads it:\n%s%s", code, exitPlanChanges, stdout, stderr)
	}
}

func TestUnifiedDiffGroupsChanges(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{name: "a run of changed lines", a: "a\nb\nc\nd\n", b: "A\nB\nc\nd\n",
			want: "--- x\n+++ y\n@@ -1,4 +1,4 @@\n-a\n-b\n+A\n+B\n c\n d\n"},
		{name: "no newline at the end", a: "a\nb\nc\n", b: "A\nB\nc",
			want: "--- x\n+++ y\n@@ -1,3 +1,3 @@\n-a\n-b\n-c\n+A\n+B\n+c\n\\ No newline at end of file\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := renderer.UnifiedDiff("x", "y", []byte(tc.a), []byte(tc.b), 0); got != tc.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}
