package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/file"
	"github.com/ctpl/ctpl/watch/fixture"
)

// runPlan renders every template (from Consul, or from -data) and prints,
// per destination, a unified diff of what would change, a summary per
// query and the commands that would run. It writes nothing and runs
// nothing. Exit 0: nothing would change; 2: something would; 1: error.
func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var base string
	c, code, ok := parseCLI("plan", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&base, "base", "", "compare each query's instances with this data `file` (an earlier snapshot)")
	})
	if !ok {
		if code == exitOK {
			return exitOK
		}
		return exitPlanError
	}
	if c.cfgErr != nil || c.fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ctpl plan: %v\n", cmpErr(c.cfgErr, fmt.Errorf("unexpected arguments: %v", c.fs.Args())))
		return exitPlanError
	}
	tmpls, err := inertTemplates(c.cfg)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl plan: %v\n", err)
		return exitPlanError
	}
	fetch, closeFetch, code := c.planFetch(ctx)
	if code != exitOK {
		return code
	}
	defer closeFetch()
	d, err := discover(ctx, tmpls, fetch)
	if err = errors.Join(append([]error{err}, d.errs...)...); err != nil {
		fmt.Fprintf(stderr, "ctpl plan: %v\n", err)
		return exitPlanError
	}
	changed, err := writePlan(stdout, c.cfg, d)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl plan: %v\n", err)
		return exitPlanError
	}
	if err := writeQuerySummary(stdout, d, base); err != nil {
		fmt.Fprintf(stderr, "ctpl plan: %v\n", err)
		return exitPlanError
	}
	estimateCost(c.cfg, d.specs, d.answers).write(stdout)
	if changed {
		return exitPlanChanges
	}
	return exitOK
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// planFetch reads from the data file with -data, else from Consul (exit
// 16 when it cannot be reached).
func (c *cli) planFetch(ctx context.Context) (fetchFunc, func(), int) {
	if c.ci.data != "" {
		_, src, err := offlineSource(c.cfg, c.ci, c.log)
		if err != nil {
			c.log.Error("cannot read the data file", "error", err)
			return nil, nil, exitPlanError
		}
		return sourceFetch(src, offlineFetchTimeout), func() {}, exitOK
	}
	copts, code := c.consulOptions(ctx)
	if code != exitOK {
		return nil, nil, code
	}
	cc, err := consul.New(copts)
	if err != nil {
		c.log.Error("cannot set up the Consul client", "error", err)
		return nil, nil, exitPlanError
	}
	return sourceFetch(watch.Route(cc, file.New()), snapshotFetchTimeout), cc.Close, exitOK
}

// inertTemplates parses the configured templates with plugin and
// writeToFile made inert.
func inertTemplates(cfg config.Config) ([]*template.Template, error) {
	var (
		out  []*template.Template
		errs []error
	)
	for _, tc := range cfg.Templates {
		name, text, err := templateText(tc)
		if err == nil {
			var opts template.Options
			if opts, err = cfg.LanguageOptions(tc); err == nil {
				opts.Inert = true
				var t *template.Template
				t, err = template.Parse(name, text, opts)
				out = append(out, t)
			}
		}
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// templateText reads a template's name and text as the config gives them.
func templateText(tc config.TemplateConfig) (name, text string, err error) {
	if tc.Source == "" {
		return "inline", tc.Contents, nil
	}
	b, err := os.ReadFile(tc.Source)
	if err != nil {
		return "", "", fmt.Errorf("template: %w", err)
	}
	return tc.Source, string(b), nil
}

// writePlan prints the diff of each destination that would change and the
// commands that would run, in config order, each once.
func writePlan(w io.Writer, cfg config.Config, d *discovery) (bool, error) {
	var commands []string
	changes := 0
	for i, tc := range cfg.Templates {
		out := d.results[i].Output
		cur, err := os.ReadFile(tc.Destination)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("read %s: %w", tc.Destination, err)
		}
		if err == nil && string(cur) == string(out) {
			fmt.Fprintf(w, "= %s: no change\n", tc.Destination)
			continue
		}
		changes++
		from := tc.Destination
		if err != nil {
			from = "/dev/null"
			fmt.Fprintf(w, "+ %s: would be created (%d bytes)\n", tc.Destination, len(out))
		} else {
			fmt.Fprintf(w, "~ %s: would change\n", tc.Destination)
		}
		fmt.Fprint(w, renderer.UnifiedDiff(from, tc.Destination, cur, out, 0))
		cmd := commandOf(tc)
		if cmd != "" && !slices.Contains(commands, cmd) {
			commands = append(commands, cmd)
		}
	}
	fmt.Fprintf(w, "\n%d of %d destinations would change\n", changes, len(cfg.Templates))
	for _, c := range commands {
		fmt.Fprintf(w, "would run: %s\n", c)
	}
	return changes > 0, nil
}

func commandOf(tc config.TemplateConfig) string {
	if len(tc.Command.Args) > 0 {
		return renderer.CommandFromList(tc.Command.Args).String()
	}
	return tc.Command.Shell
}

// writeQuerySummary prints each query's count of records and, against a
// base file, which records it gains and loses.
func writeQuerySummary(w io.Writer, d *discovery, basePath string) error {
	var base *fixture.Source
	if basePath != "" {
		f, err := fixture.Load(basePath)
		if err != nil {
			return err
		}
		base = fixture.NewSource(f, fixture.Options{Missing: fixture.MissingEmpty, Logger: discardLog})
	}
	fmt.Fprintln(w, "\nrecords per query (instances, nodes or keys):")
	for _, k := range sortedKeys(d.specs) {
		spec := d.specs[k]
		if spec.Kind == watch.KindFile {
			continue
		}
		now := recordIDs(d.answers[k])
		fmt.Fprintf(w, "  %s: %d", k, len(now))
		if base != nil {
			old, err := base.Answer(spec)
			if err != nil {
				return err
			}
			added, removed := setDiff(recordIDs(old), now)
			fmt.Fprintf(w, " (+%d -%d)", len(added), len(removed))
			for _, a := range added {
				fmt.Fprintf(w, "\n    + %s", a)
			}
			for _, r := range removed {
				fmt.Fprintf(w, "\n    - %s", r)
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

// recordIDs names each record of an answer: instances by node/ID, services
// and nodes by name, keys by path.
func recordIDs(v any) []string {
	var out []string
	switch v := v.(type) {
	case []*watch.HealthService:
		for _, hs := range v {
			out = append(out, hs.Node+"/"+hs.ID)
		}
	case []*watch.CatalogService:
		for _, s := range v {
			out = append(out, s.Name)
		}
	case []*watch.Node:
		for _, n := range v {
			out = append(out, n.Node)
		}
	case []*watch.KeyPair:
		for _, p := range v {
			out = append(out, p.Path)
		}
	case watch.KVValue:
		if v.Exists {
			out = append(out, "exists")
		}
	case *watch.NodeServices:
		if v != nil {
			for _, s := range v.Services {
				out = append(out, s.ID)
			}
		}
	case []string:
		out = v
	}
	return out
}

// setDiff returns what now has and old lacks, and the reverse, sorted.
func setDiff(old, now []string) (added, removed []string) {
	in := func(list []string) map[string]bool {
		m := make(map[string]bool, len(list))
		for _, s := range list {
			m[s] = true
		}
		return m
	}
	oldSet, nowSet := in(old), in(now)
	for _, s := range now {
		if !oldSet[s] {
			added = append(added, s)
		}
	}
	for _, s := range old {
		if !nowSet[s] {
			removed = append(removed, s)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return added, removed
}
