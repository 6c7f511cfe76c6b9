package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"regexp"
	"slices"
	"strconv"

	"github.com/ctpl/ctpl/watch"
)

// checkReport is what `ctpl check` found.
type checkReport struct {
	OK     bool         `json:"ok"`
	Errors []checkError `json:"errors"`
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
		fs.StringVar(&format, "format", "text", "output `format`: text or json (for CI annotations)")
	})
	if !ok {
		return code
	}
	if format != "text" && format != "json" {
		fmt.Fprintf(stderr, "ctpl check: -format %q: want text or json\n", format)
		return exitFlags
	}
	if c.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ctpl check: unexpected arguments: %v\n", c.fs.Args())
		return exitFlags
	}
	var errs []error
	rep := &checkReport{Errors: []checkError{}}
	if c.cfgErr != nil {
		errs = append(errs, c.cfgErr)
	} else {
		_, err := c.cfg.BuildTemplates()
		errs = append(errs, err)
		errs = append(errs, checkQueryLiterals(c.cfg)...)
		if c.ci.data != "" && err == nil {
			errs = append(errs, checkWithData(ctx, c, rep))
		}
	}
	for _, e := range flatten(errors.Join(errs...)) {
		rep.Errors = append(rep.Errors, locate(e.Error()))
	}
	rep.OK = len(rep.Errors) == 0
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		writeCheckText(stdout, rep)
	}
	if !rep.OK {
		return exitConfig
	}
	return exitOK
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
	if rep.Cost != nil {
		rep.Cost.write(w)
	}
	if rep.OK {
		fmt.Fprintln(w, "ok")
	} else {
		fmt.Fprintf(w, "%d error(s)\n", len(rep.Errors))
	}
}

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
var locRe = regexp.MustCompile(`^(?:template: )?([^\s:][^:]*):(\d+)(?::(\d+))?:`)

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
