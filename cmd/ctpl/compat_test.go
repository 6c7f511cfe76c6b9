package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// The differential test (issue 3): every template of testdata/compat is
// rendered against one seeded Consul by ctpl and by consul-template v0.41.1,
// and the outputs must be byte-identical. Where consul-template is clearly
// wrong, testdata/compat/NAME.ctpl.out holds what ctpl renders instead, and
// DIFFERENCES.md says why; the test then checks ctpl against that file and
// that consul-template still differs.

const (
	envConsulTemplateBin = "CTPL_CONSUL_TEMPLATE_BIN"
	// consulTemplateVersion is the oracle's version, as the Makefile pins it.
	consulTemplateVersion = "v0.41.1"
	compatDir             = "../../testdata/compat"
	compatTimeout         = 40 * time.Second
	// expectedSuffix marks the output ctpl renders for a documented
	// deliberate difference.
	expectedSuffix = ".ctpl.out"
	// hostilePrefix marks the templates rendered after the hostile registry
	// strings are registered, so they cannot leak into the others.
	hostilePrefix = "hostile_"
)

var updateCompat = flag.Bool("update-compat", false, "rewrite testdata/compat/*.ctpl.out from ctpl's output")

// compatTemplate is one template of the corpus and the options both tools
// render it with.
type compatTemplate struct {
	name              string // file name without .tmpl
	leftDelim         string
	rightDelim        string
	errorOnMissingKey bool
	sandbox           bool     // sandbox_path is the test's directory, $CTPL_COMPAT_DIR
	allow             []string // ctpl's allow_functions (consul-template allows them all)
	path              string   // the template file when it is not testdata/compat/NAME.tmpl (a recipe's)
}

// compatOptions are the per-template options the file alone cannot carry.
var compatOptions = map[string]compatTemplate{
	"delimiters_custom":    {leftDelim: "[[", rightDelim: "]]"},
	"error_on_missing_key": {errorOnMissingKey: true},
	"file_sandbox":         {sandbox: true},
	"plugin_allowed":       {allow: []string{"plugin"}},
	"write_to_file":        {allow: []string{"writeToFile"}},
}

// envTool names, in the environment of each tool, which tool renders, so
// that templates writing files (writeToFile) write files of their own.
const envTool = "CTPL_COMPAT_TOOL"

func consulTemplateBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv(envConsulTemplateBin)
	if p == "" {
		p = "../../bin/consul-template"
	}
	abs, err := filepath.Abs(p)
	if err == nil {
		_, err = os.Stat(abs)
	}
	if err != nil {
		msg := fmt.Sprintf("no consul-template binary (%v): run `make consul-template` or set %s", err, envConsulTemplateBin)
		if os.Getenv(consultest.EnvRequire) == "1" {
			t.Fatalf("%s [%s=1 makes this a failure]", msg, consultest.EnvRequire)
		}
		t.Skip(msg)
	}
	out, err := exec.Command(abs, "-version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), consulTemplateVersion+" ") {
		t.Fatalf("%s -version: %q (%v): the oracle must be consul-template %s", abs, out, err, consulTemplateVersion)
	}
	return abs
}

// loadCorpus returns the templates of testdata/compat, sorted by name.
func loadCorpus(t *testing.T) []compatTemplate {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(compatDir, "*.tmpl"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no templates in %s (%v)", compatDir, err)
	}
	var out []compatTemplate
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".tmpl")
		ct := compatOptions[name]
		ct.name = name
		out = append(out, ct)
	}
	// Every documented difference has its template and its entry in
	// DIFFERENCES.md.
	diffs, _ := os.ReadFile(filepath.Join(compatDir, "DIFFERENCES.md"))
	expected, _ := filepath.Glob(filepath.Join(compatDir, "*"+expectedSuffix))
	for _, p := range expected {
		name := strings.TrimSuffix(filepath.Base(p), expectedSuffix)
		if !slices.ContainsFunc(out, func(c compatTemplate) bool { return c.name == name }) {
			t.Errorf("%s has no template %s.tmpl", p, name)
		}
		if !bytes.Contains(diffs, []byte("`"+name+"`")) {
			t.Errorf("DIFFERENCES.md does not explain %s", name)
		}
	}
	for name := range compatOptions {
		if !slices.ContainsFunc(out, func(c compatTemplate) bool { return c.name == name }) {
			t.Errorf("compatOptions names %s, which has no template", name)
		}
	}
	return out
}

func TestCompatConsulTemplate(t *testing.T) {
	ctBin := consulTemplateBinary(t)
	agent := consultest.Start(t)
	dir := t.TempDir()
	if keep := os.Getenv("CTPL_COMPAT_OUT"); keep != "" {
		dir = keep // keep both tools' outputs for inspection
	}
	seedCompat(t, agent, dir)

	plain, hostile := splitHostile(loadCorpus(t))
	began := time.Now()
	compareRenders(t, ctBin, agent, filepath.Join(dir, "plain"), plain)
	compareWrittenFiles(t, dir)
	seedHostile(t, agent)
	compareRenders(t, ctBin, agent, filepath.Join(dir, "hostile"), hostile)
	checkAllowRestoresConsulTemplate(t, agent, filepath.Join(dir, "hostile"), hostile)
	t.Logf("%d templates rendered by both tools and compared in %v",
		len(plain)+len(hostile), time.Since(began).Round(time.Millisecond))
}

// splitHostile splits the corpus into the templates rendered before the
// hostile registry strings are registered and those rendered after.
func splitHostile(corpus []compatTemplate) (plain, hostile []compatTemplate) {
	for _, c := range corpus {
		if strings.HasPrefix(c.name, hostilePrefix) {
			hostile = append(hostile, c)
		} else {
			plain = append(plain, c)
		}
	}
	return plain, hostile
}

// compareRenders renders set with both tools and compares each output.
func compareRenders(t *testing.T, ctBin string, agent *consultest.Agent, dir string, set []compatTemplate) {
	t.Helper()
	if len(set) == 0 {
		return
	}
	ctDir, ctplDir := filepath.Join(dir, "consul-template"), filepath.Join(dir, "ctpl")
	for _, d := range []string{ctDir, ctplDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	runConsulTemplate(t, ctBin, agent, dir, ctDir, set)
	ctTook := time.Since(start)
	start = time.Now()
	runCtplOnce(t, agent, dir, ctplDir, "", set)
	t.Logf("consul-template took %v, ctpl %v for %d templates",
		ctTook.Round(time.Millisecond), time.Since(start).Round(time.Millisecond), len(set))
	for _, c := range set {
		t.Run(c.name, func(t *testing.T) {
			ct, ctErr := os.ReadFile(filepath.Join(ctDir, c.name+".out"))
			got, err := os.ReadFile(filepath.Join(ctplDir, c.name+".out"))
			if err != nil {
				t.Fatalf("ctpl rendered nothing (%v); see its log above", err)
			}
			if ctErr != nil {
				t.Fatalf("consul-template rendered nothing (%v); see its log above", ctErr)
			}
			checkOutput(t, c.name, got, ct)
		})
	}
}

// checkOutput compares ctpl's output with consul-template's, or with the
// expected file of a documented difference.
func checkOutput(t *testing.T, name string, got, ct []byte) {
	t.Helper()
	expPath := filepath.Join(compatDir, name+expectedSuffix)
	if *updateCompat && !bytes.Equal(got, ct) {
		if err := os.WriteFile(expPath, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(expPath)
	if errors.Is(err, os.ErrNotExist) {
		if !bytes.Equal(got, ct) {
			t.Errorf("ctpl and consul-template differ:\n%s", diffLines(ct, got))
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("ctpl differs from the documented %s:\n%s", filepath.Base(expPath), diffLines(want, got))
	}
	if bytes.Equal(got, ct) {
		t.Errorf("consul-template now renders what ctpl does: remove %s and its entry in DIFFERENCES.md", expPath)
	}
}

// diffLines shows the first lines where want and got differ.
func diffLines(want, got []byte) string {
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 12; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl || i >= len(w) || i >= len(g) {
			fmt.Fprintf(&b, "line %d:\n  consul-template: %q\n  ctpl:            %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

// runConsulTemplate renders set once with consul-template, stopping it with
// SIGINT if it has not finished within compatTimeout. A failure is logged
// here; the comparison of each template tells what it cost.
func runConsulTemplate(t *testing.T, bin string, agent *consultest.Agent, dir, out string, set []compatTemplate) {
	t.Helper()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "consul {\n  address = %q\n}\nlog_level = %q\n", agent.Addr(), cmp.Or(os.Getenv("CTPL_COMPAT_LOG"), "info"))
	for _, c := range set {
		fmt.Fprintf(&cfg, "template {\n  source = %q\n  destination = %q\n",
			absTemplate(t, c.name), filepath.Join(out, c.name+".out"))
		if c.leftDelim != "" {
			fmt.Fprintf(&cfg, "  left_delimiter = %q\n  right_delimiter = %q\n", c.leftDelim, c.rightDelim)
		}
		if c.errorOnMissingKey {
			cfg.WriteString("  error_on_missing_key = true\n")
		}
		if c.sandbox {
			fmt.Fprintf(&cfg, "  sandbox_path = %q\n", os.Getenv("CTPL_COMPAT_DIR"))
		}
		cfg.WriteString("}\n")
	}
	path := filepath.Join(dir, "consul-template.hcl")
	writeFile(t, path, cfg.String())
	ctx, cancel := context.WithTimeout(t.Context(), compatTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-once", "-config", path)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), envTool+"=consul-template")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		t.Errorf("consul-template -once: %v (deadline hit: %v); log:\n%s", err, ctx.Err() != nil, log.String())
	}
}

// runCtplOnce renders set once with ctpl, in process; extra is added to its
// config file.
func runCtplOnce(t *testing.T, agent *consultest.Agent, dir, out, extra string, set []compatTemplate) {
	t.Helper()
	var cfg strings.Builder
	cfg.WriteString(extra + "log_level: warn\ntemplates:\n")
	for _, c := range set {
		src := absTemplate(t, c.name)
		if c.path != "" {
			src = c.path
		}
		fmt.Fprintf(&cfg, "  - source: %q\n    destination: %q\n", src, filepath.Join(out, c.name+".out"))
		if c.leftDelim != "" {
			fmt.Fprintf(&cfg, "    left_delimiter: %q\n    right_delimiter: %q\n", c.leftDelim, c.rightDelim)
		}
		if c.errorOnMissingKey {
			cfg.WriteString("    error_on_missing_key: true\n")
		}
		if c.sandbox {
			fmt.Fprintf(&cfg, "    sandbox_path: %q\n", os.Getenv("CTPL_COMPAT_DIR"))
		}
		if len(c.allow) > 0 {
			fmt.Fprintf(&cfg, "    allow_functions: [%s]\n", strings.Join(c.allow, ", "))
		}
	}
	path := filepath.Join(out, "ctpl.yaml")
	writeFile(t, path, cfg.String())
	var stdout, stderr syncBuffer
	args := []string{"-config", path, "-consul-addr", agent.Addr(), "-once", "-once-timeout", compatTimeout.String()}
	if code := run(t.Context(), args, &stdout, &stderr); code != exitOK {
		t.Errorf("ctpl -once exited %d; log:\n%s", code, stderr.String())
	}
}

func absTemplate(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(compatDir, name+".tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// checkAllowRestoresConsulTemplate renders set, already rendered by
// consul-template in dir, with `untrusted_strings: allow`, which must give
// consul-template's output back byte for byte.
func checkAllowRestoresConsulTemplate(t *testing.T, agent *consultest.Agent, dir string, set []compatTemplate) {
	t.Helper()
	out := filepath.Join(dir, "ctpl-allow")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	runCtplOnce(t, agent, dir, out, "untrusted_strings: allow\n", set)
	for _, c := range set {
		ct, _ := os.ReadFile(filepath.Join(dir, "consul-template", c.name+".out"))
		got, err := os.ReadFile(filepath.Join(out, c.name+".out"))
		if err != nil || !bytes.Equal(got, ct) {
			t.Errorf("%s with untrusted_strings: allow differs from consul-template (%v):\n%s", c.name, err, diffLines(ct, got))
		}
	}
}

// compareWrittenFiles compares the files templates wrote with writeToFile,
// below DIR/written-consul-template-* and DIR/written-ctpl-*.
func compareWrittenFiles(t *testing.T, dir string) {
	t.Helper()
	const ctMark, ctplMark = "/written-consul-template-", "/written-ctpl-"
	n := 0
	err := filepath.WalkDir(dir, func(ct string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.Contains(ct, ctMark) {
			return err
		}
		n++
		mine := strings.Replace(ct, ctMark, ctplMark, 1)
		want, _ := os.ReadFile(ct)
		got, err := os.ReadFile(mine)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from consul-template's %s (%v):\n%s", mine, ct, err, diffLines(want, got))
			return nil
		}
		wi, _ := os.Stat(ct)
		if gi, _ := os.Stat(mine); wi.Mode() != gi.Mode() {
			t.Errorf("%s has mode %v, consul-template's %v", mine, gi.Mode(), wi.Mode())
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
	t.Logf("%d files written by writeToFile compared", n)
}
