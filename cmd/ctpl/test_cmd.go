package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/file"
	"github.com/ctpl/ctpl/watch/fixture"
)

// exitTestFailed is the exit code of `ctpl test` when a case fails.
const exitTestFailed = 1

// testTemplate is a template under test and where its cases are.
type testTemplate struct {
	path  string // the template file
	opts  template.Options
	cases string // DIR/testdata/NAME: NAME.yaml (or .json) fixtures, NAME.golden outputs
}

// runTest runs fixture-driven template tests: for every template X.tmpl
// below each DIR (or every configured template), each data file in
// testdata/X/ next to it is rendered offline and compared with the golden
// file of the same name (.golden). -update rewrites the goldens.
func runTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		update bool
		run    string
	)
	c, code, ok := parseCLI("test", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&update, "update", false, "rewrite the golden files from what the templates render")
		fs.StringVar(&run, "run", "", "run only the cases whose path matches this `regexp`")
	})
	if ok && len(c.fl.configs) == 0 && len(c.fl.templates) == 0 {
		code = exitOK // no config: the templates are found below DIR
	}
	if !ok || code != exitOK {
		if c != nil && c.cfgErr != nil {
			fmt.Fprintf(stderr, "ctpl test: %v\n", c.cfgErr)
		}
		return code
	}
	match, err := regexp.Compile(run)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl test: -run: %v\n", err)
		return exitFlags
	}
	tmpls, err := testTemplates(c, c.fs.Args())
	if err != nil {
		fmt.Fprintf(stderr, "ctpl test: %v\n", err)
		return exitConfig
	}
	opts := fixture.Options{Logger: c.log}
	opts.Untrusted, _ = watch.ParseUntrustedPolicy(c.cfg.UntrustedStrings)        // validated with the config
	opts.FormatChars, _ = watch.ParseFormatCharPolicy(c.cfg.UntrustedFormatChars) // validated with the config
	passed, failed := 0, 0
	for _, tt := range tmpls {
		cases, err := caseFiles(tt.cases)
		if err != nil {
			fmt.Fprintf(stderr, "ctpl test: %v\n", err)
			return exitConfig
		}
		for _, dataPath := range cases {
			if !match.MatchString(dataPath) {
				continue
			}
			if err := runCase(ctx, tt, dataPath, update, stdout, opts); err != nil {
				failed++
				fmt.Fprintf(stdout, "FAIL %s\n%v\n", dataPath, err)
				continue
			}
			passed++
			fmt.Fprintf(stdout, "ok   %s\n", dataPath)
		}
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 {
		return exitTestFailed
	}
	if passed == 0 {
		fmt.Fprintln(stderr, "ctpl test: no test cases (want testdata/NAME/CASE.yaml next to NAME.tmpl)")
		return exitTestFailed
	}
	return exitOK
}

// testTemplates lists the configured templates, else every *.tmpl below
// dirs (default ".").
func testTemplates(c *cli, dirs []string) ([]testTemplate, error) {
	var out []testTemplate
	for i, tc := range c.cfg.Templates {
		if tc.Source == "" {
			continue
		}
		if _, err := os.Stat(tc.Source); err != nil { // a relative source is read from the working directory
			return nil, inlineAt(fmt.Errorf("template: %w", err), i, tc)
		}
		opts, err := c.cfg.LanguageOptions(tc)
		if err != nil {
			return nil, err
		}
		out = append(out, newTestTemplate(tc.Source, opts))
	}
	if len(c.cfg.Templates) > 0 {
		return out, nil
	}
	if len(dirs) == 0 {
		dirs = []string{"."}
	}
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testdata" {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(p, ".tmpl") {
				out = append(out, newTestTemplate(p, template.Options{}))
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func newTestTemplate(path string, opts template.Options) testTemplate {
	opts.Inert = true
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return testTemplate{path: path, opts: opts, cases: filepath.Join(filepath.Dir(path), "testdata", name)}
}

// caseFiles lists the data files of a template's cases.
func caseFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	slices.Sort(out)
	return out, nil
}

// runCase renders tt from the data file and compares the output with the
// golden file next to it.
func runCase(ctx context.Context, tt testTemplate, dataPath string, update bool, stdout io.Writer, opts fixture.Options) error {
	f, err := fixture.Load(dataPath)
	if err != nil {
		return err
	}
	tmpl, err := template.ParseFile(tt.path, tt.opts)
	if err != nil {
		return err
	}
	src := watch.Route(fixture.NewSource(f, opts), file.New())
	d, err := discover(ctx, []*template.Template{tmpl}, sourceFetch(src, offlineFetchTimeout))
	if err = errors.Join(append([]error{err}, d.errs...)...); err != nil {
		return err
	}
	got := d.results[0].Output
	golden := strings.TrimSuffix(dataPath, filepath.Ext(dataPath)) + ".golden"
	want, err := os.ReadFile(golden)
	if update && (err != nil || !bytes.Equal(got, want)) {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "updated %s\n", golden)
		want, err = got, nil
	}
	if err != nil {
		return fmt.Errorf("%w (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("%s differs from what %s renders:\n%s", golden, tt.path,
			renderer.UnifiedDiff(golden, "rendered", want, got, 0))
	}
	return nil
}
