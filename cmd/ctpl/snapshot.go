package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/file"
	"github.com/ctpl/ctpl/watch/fixture"
)

// snapshotFetchTimeout bounds one read of a snapshot.
const snapshotFetchTimeout = 30 * time.Second

// snapshotFlags are the flags of `ctpl snapshot`.
type snapshotFlags struct {
	out       string
	all       bool
	kvPrefix  string
	excludeKV stringList
}

// runSnapshot captures, from a live Consul, the data the configured
// templates use (or with -all the whole catalog, health and a KV prefix)
// into a data file.
func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var sf snapshotFlags
	c, code, ok := parseCLI("snapshot", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&sf.out, "o", "", "write the snapshot to this `file` (.json: JSON, else YAML)")
		fs.BoolVar(&sf.all, "all", false, "capture every service with its instances, every node and the KV prefix -kv-prefix")
		fs.StringVar(&sf.kvPrefix, "kv-prefix", "", "with -all, the KV `prefix` to capture (default: every key)")
		fs.Var(&sf.excludeKV, "exclude-kv", "leave out the values of keys below this `prefix` (repeatable)")
	})
	if !ok {
		return code
	}
	if code == exitConfig && sf.all && len(c.fl.configs) == 0 && len(c.fl.templates) == 0 {
		code = exitOK // -all needs no template
	}
	if code != exitOK {
		fmt.Fprintf(stderr, "ctpl snapshot: invalid configuration:\n%v\n", c.cfgErr)
		return code
	}
	if sf.out == "" || c.fs.NArg() > 0 {
		fmt.Fprintln(stderr, "ctpl snapshot: want -o FILE and no arguments")
		return exitFlags
	}
	if len(c.cfg.Templates) == 0 && !sf.all {
		fmt.Fprintln(stderr, "ctpl snapshot: no templates: give -config or -template, or -all")
		return exitFlags
	}
	copts, code := c.consulOptions(ctx)
	if code != exitOK {
		return code
	}
	if !copts.Agent.Known {
		fmt.Fprintln(stderr, "ctpl snapshot: nothing written: the agent did not say which datacenter and node it is "+
			"(the log says why): a data file needs them; the token probably lacks agent_prefix \"\" { policy = \"read\" }")
		return exitError
	}
	// Read as from a server: past the client agent's cache and views,
	// whose answers do not say what ACLs filtered out (aclView).
	pastCache := copts
	pastCache.Agent = &consul.Agent{Server: true, Node: copts.Agent.Node, MaxConnsPerClient: copts.Agent.MaxConnsPerClient}
	cc, err := consul.New(pastCache)
	if err != nil {
		c.log.Error("cannot set up the Consul client", "error", err)
		return exitConfig
	}
	defer cc.Close()
	f, err := capture(ctx, c, cc, copts.Agent, sf)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl snapshot: nothing written:\n%v\n", err)
		return exitError
	}
	if err := f.WriteFile(sf.out); err != nil {
		c.log.Error("cannot write the snapshot", "error", err)
		return exitError
	}
	fmt.Fprintf(stdout, "wrote %s\n", sf.out)
	return exitOK
}

// consulOptions are the Consul client's options from the config; with
// Consul unreachable the code is exitUnreachable.
func (c *cli) consulOptions(ctx context.Context) (consul.Options, int) {
	policy, _ := watch.ParseUntrustedPolicy(c.cfg.UntrustedStrings) // validated with the config
	copts := c.cfg.Consul.Options()
	copts.Untrusted, copts.MaxStale, copts.Logger = policy, c.cfg.MaxStale, c.log
	copts.FormatChars, _ = watch.ParseFormatCharPolicy(c.cfg.UntrustedFormatChars) // validated with the config
	a := &app{ci: c.ci, log: c.log}
	if code := a.reachConsul(ctx, copts); code != exitOK {
		return copts, code
	}
	copts.Agent = discoverAgent(ctx, copts, c.log)
	return copts, exitOK
}

// capture reads the templates' queries (and with -all the whole registry),
// then what makes each captured service complete, into a File.
func capture(ctx context.Context, c *cli, cc *consul.Client, agent *consul.Agent, sf snapshotFlags) (*fixture.File, error) {
	view := newACLView(watch.Route(cc, file.New()))
	fetch := sourceFetch(view, snapshotFetchTimeout)
	got := answers{}
	specs := map[string]watch.Spec{}
	if len(c.cfg.Templates) > 0 {
		tmpls, err := parsedTemplates(c.cfg)
		if err != nil {
			return nil, err
		}
		d, err := discover(ctx, tmpls, fetch)
		if err != nil && !errors.Is(err, errWaiting) { // what a template waits for is captured as it is
			return nil, errors.Join(err, view.err())
		}
		for k, v := range d.answers {
			got[k], specs[k] = v, d.specs[k]
		}
	}
	if sf.all {
		if err := captureAll(ctx, fetch, sf.kvPrefix, got, specs); err != nil {
			return nil, errors.Join(err, view.err())
		}
	}
	capt := fixture.NewCapture(agent.Datacenter, sf.excludeKV)
	if err := errors.Join(expandAll(ctx, fetch, got, specs), view.err()); err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(specs)) {
		spec := specs[k]
		if spec.Kind == watch.KindFile {
			continue
		}
		if err := capt.Add(spec, got[k]); err != nil {
			return nil, err
		}
	}
	f := capt.File()
	if f.Node == "" {
		f.Node = agent.Node
	}
	f.Complete = sf.all // every service, instance and node of the local datacenter
	return f, nil
}

// captureAll reads every service with every status, every node, the
// datacenters and the KV prefix.
func captureAll(ctx context.Context, fetch fetchFunc, kvPrefix string, got answers, specs map[string]watch.Spec) error {
	base := []watch.Spec{{Kind: watch.KindCatalogServices}, {Kind: watch.KindCatalogNodes},
		watch.DatacentersSpec(false), {Kind: watch.KindKVList, Name: kvPrefix}}
	if err := fetchInto(ctx, fetch, base, got, specs); err != nil {
		return err
	}
	svcs, _ := got[base[0].String()].([]*watch.CatalogService)
	var more []watch.Spec
	for _, s := range svcs {
		more = append(more, watch.Spec{Kind: watch.KindHealthService, Name: s.Name, Status: []string{watch.StatusAny}})
	}
	return fetchInto(ctx, fetch, more, got, specs)
}

// expandAll reads, until there are none left, the queries fixture.Expand
// adds to those read.
func expandAll(ctx context.Context, fetch fetchFunc, got answers, specs map[string]watch.Spec) error {
	for range maxDiscoveryPasses {
		var more []watch.Spec
		seen := map[string]bool{}
		for k, spec := range specs {
			for _, e := range fixture.Expand(spec, got[k]) {
				if ek := e.String(); specs[ek].Kind == "" && !seen[ek] {
					seen[ek] = true
					more = append(more, e)
				}
			}
		}
		if len(more) == 0 {
			return nil
		}
		if err := fetchInto(ctx, fetch, more, got, specs); err != nil {
			return err
		}
	}
	return fmt.Errorf("snapshot: queries still expanding after %d passes", maxDiscoveryPasses)
}

func fetchInto(ctx context.Context, fetch fetchFunc, list []watch.Spec, got answers, specs map[string]watch.Spec) error {
	vals, err := fetch(ctx, list)
	for _, s := range list {
		if v, ok := vals[s.String()]; ok {
			got[s.String()], specs[s.String()] = v, s
		}
	}
	return err
}
