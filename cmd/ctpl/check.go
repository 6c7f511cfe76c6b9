package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/watch"
)

// checkReport is what `ctpl check` found.
type checkReport struct {
	OK     bool         `json:"ok"`
	Errors []checkError `json:"errors"`
	// Warnings are what loading the config said (keys ctpl ignores); the
	// cost estimate's are in Cost.
	Warnings []string `json:"warnings"`
	// Queries is every query the templates use, with -data.
	Queries []string `json:"queries,omitempty"`
	Cost    *cost    `json:"cost,omitempty"`
}

// checkError is one error, located where its message says.
type checkError struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Message string `json:"message"`
}

// runCheck validates the config and templates with no network: YAML and
// keys, template syntax, denied functions, delimiters, the queries written
// as literals; with -data it also renders every template from the data file
// and estimates what the queries cost. Exit 0 or 15.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	format := "text"
	c, code, ok := parseCLI("check", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "text", "output `format`: text, json, or github (workflow commands: annotations)")
	})
	if !ok {
		return code
	}
	if format != "text" && format != "json" && format != "github" {
		fmt.Fprintf(stderr, "ctpl check: -format %q: want text, json or github\n", format)
		return exitFlags
	}
	if c.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ctpl check: unexpected arguments: %v\n", c.fs.Args())
		return exitFlags
	}
	var errs []error
	rep := &checkReport{Errors: []checkError{}, Warnings: slices.Clone(c.cfg.Warnings)}
	if c.cfgErr != nil {
		errs = append(errs, c.cfgErr)
	} else {
		err := buildEach(c.cfg)
		errs = append(errs, err)
		errs = append(errs, checkQueryLiterals(c.cfg)...)
		if c.ci.data != "" && err == nil {
			errs = append(errs, checkWithData(ctx, c, rep))
		}
	}
	for _, e := range flatten(errors.Join(errs...)) {
		rep.Errors = append(rep.Errors, locate(e.Error()))
	}
	if rep.Warnings == nil {
		rep.Warnings = []string{}
	}
	rep.OK = len(rep.Errors) == 0
	switch format {
	case "json":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	case "github":
		writeCheckGitHub(stdout, rep)
	default:
		writeCheckText(stdout, rep)
	}
	if !rep.OK {
		return exitConfig
	}
	return exitOK
}

// buildEach parses every template and returns its errors, those of a
// template given inline placed at its entry in the config file.
func buildEach(cfg config.Config) error {
	var errs []error
	for i, tc := range cfg.Templates {
		one := cfg
		one.Templates = []config.TemplateConfig{tc}
		_, err := one.BuildTemplates()
		errs = append(errs, inlineAt(err, i, tc))
	}
	return errors.Join(errs...)
}

// inlineAt places the errors of an inline template (contents), and a
// source file that cannot be read, at the template's entry in the config
// file: "ctpl.yaml:12: templates[3] contents: inline:2:5: …".
func inlineAt(err error, i int, tc config.TemplateConfig) error {
	file, line := tc.Place()
	if err == nil || file == "" {
		return err
	}
	var out []error
	for _, e := range flatten(err) {
		_, unread := errors.AsType[*fs.PathError](e)
		switch {
		case tc.Source == "":
			e = fmt.Errorf("%s:%d: templates[%d] contents: %w", file, line, i+1, e)
		case unread:
			e = fmt.Errorf("%s:%d: templates[%d] source: %w", file, line, i+1, e)
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// checkWithData renders every template from the data file, with no
// network, and estimates what its queries would cost.
func checkWithData(ctx context.Context, c *cli, rep *checkReport) error {
	_, src, err := offlineSource(c.cfg, c.ci, c.log)
	if err != nil {
		return err
	}
	tmpls, err := parsedTemplates(c.cfg)
	if err != nil {
		return err
	}
	d, err := discover(ctx, tmpls, sourceFetch(src, offlineFetchTimeout))
	rep.Queries = append(rep.Queries, sortedKeys(d.specs)...)
	rep.Cost = estimateCost(c.cfg, d.specs, d.answers)
	return errors.Join(append([]error{err}, d.errs...)...)
}

func writeCheckText(w io.Writer, rep *checkReport) {
	for _, e := range rep.Errors {
		fmt.Fprintln(w, e.Message)
	}
	for _, wn := range rep.Warnings {
		fmt.Fprintf(w, "warning: %s\n", wn)
	}
	if rep.Cost != nil {
		rep.Cost.write(w)
	}
	if rep.OK {
		fmt.Fprintln(w, "ok")
	} else {
		fmt.Fprintf(w, "%d error(s)\n", len(rep.Errors))
	}
}

// writeCheckGitHub writes the report as GitHub Actions workflow commands:
// each error an annotation at its file, line and column, each warning one
// of the run, then the text summary.
func writeCheckGitHub(w io.Writer, rep *checkReport) {
	for _, e := range rep.Errors {
		var props []string
		if e.File != "" {
			props = append(props, "file="+ghProperty(e.File))
		}
		if e.Line > 0 {
			props = append(props, fmt.Sprintf("line=%d", e.Line))
		}
		if e.Col > 0 {
			props = append(props, fmt.Sprintf("col=%d", e.Col))
		}
		fmt.Fprintf(w, "::error %s::%s\n", strings.Join(props, ","), ghData(e.Message))
	}
	warnings := rep.Warnings
	if rep.Cost != nil {
		warnings = append(slices.Clip(warnings), rep.Cost.Warnings...)
	}
	for _, wn := range warnings {
		fmt.Fprintf(w, "::warning::%s\n", ghData(wn))
	}
	if rep.OK {
		fmt.Fprintln(w, "ok")
	} else {
		fmt.Fprintf(w, "%d error(s)\n", len(rep.Errors))
	}
}

// ghData escapes a workflow command's message; ghProperty a property's
// value, which also must not hold ':' or ','.
var (
	ghData     = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace
	ghProperty = strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace
)

// flatten lists the leaves of a tree of joined errors.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// locRe finds the file:line[:col] an error message starts with.
var locRe = regexp.MustCompile(`^(?:template: |config )?([^\s:][^:]*):(\d+)(?::(\d+))?:`)

// locate splits the location off a message, keeping the message whole.
func locate(msg string) checkError {
	e := checkError{Message: msg}
	if m := locRe.FindStringSubmatch(msg); m != nil {
		e.File = m[1]
		e.Line, _ = strconv.Atoi(m[2])
		e.Col, _ = strconv.Atoi(m[3])
	}
	return e
}

func sortedKeys(m map[string]watch.Spec) []string {
	return slices.Sorted(maps.Keys(m))
}
