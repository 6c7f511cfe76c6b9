package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		o     options
		_     = flag.Bool("big", false, "no-op, kept for old command lines: the 10,000×10 scenarios always run (see -only)")
		only  = flag.String("only", "", "run only scenarios whose name contains this")
		out   = flag.String("out", "docs/benchmarks.md", "write the report here (empty: do not)")
		appnd = flag.Bool("append", false, "append the report to -out as a further run instead of replacing it")
		noCT  = flag.Bool("no-consul-template", false, "measure ctpl only")
		ctplB = flag.String("ctpl", "bin/ctpl", "the ctpl binary")
		ctB   = flag.String("consul-template", "bin/consul-template", "the consul-template binary")
		fleet = flag.Bool("fleet", false, "fleet mode (make bench-fleet): what each tool costs Consul's servers, one tool per client agent of a 3-server cluster; writes the fleet section of -out")
		fo    = fleetOptions{runs: 1}
	)
	flag.IntVar(&fo.flips, "fleet-flips", 50, "fleet mode: health flips per phase (baseline and tools)")
	flag.IntVar(&fo.runs, "fleet-runs", 1, "fleet mode: fresh clusters per tool and scenario (the report gives medians)")
	flag.DurationVar(&fo.period, "fleet-period", 400*time.Millisecond, "fleet mode: one flip starts every `period`, in the baseline as with the tools")
	flag.StringVar(&o.profileDir, "profile", "", "write ctpl's CPU and allocation profiles per scenario into this `dir`")
	flag.IntVar(&o.flips, "flips", 200, "isolated health flips per tool and scenario")
	flag.IntVar(&o.regs, "regs", 20, "registrations (each also deregistered) per tool and scenario")
	flag.DurationVar(&o.churn, "churn", 30*time.Second, "churn duration (0: none)")
	flag.IntVar(&o.rate, "rate", 50, "churn flips per second")
	flag.DurationVar(&o.renderTimeout, "render-timeout", 60*time.Second, "give up on a first render after this")
	flag.BoolVar(&o.verbose, "v", false, "log the agents' progress")
	flag.BoolVar(&o.noSettle, "no-settle", false, "start the isolated flips right after the first render, not once the tool is idle")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	c, ct := ctplTool, consulTemplateTool
	c.bin, ct.bin = *ctplB, *ctB
	tools := []tool{c, ct}
	if *noCT {
		tools = tools[:1]
	}
	if *fleet {
		fo.renderTimeout, fo.verbose = o.renderTimeout, o.verbose
		if err := fleetMain(ctx, tools, fo, *only, *out); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	began := time.Now()
	var results []result
	for _, group := range groups(scenarios, *only) {
		o := o
		if group[0].big {
			// A first render of 100,000 instances takes tens of seconds;
			// registrations are the slowest part of a 10,000×10 run.
			o.renderTimeout, o.regs = max(o.renderTimeout, 120*time.Second), min(o.regs, 10)
		}
		results = append(results, run(ctx, group, tools, o)...)
		if ctx.Err() != nil {
			break
		}
	}
	table := formatTable(results)
	fmt.Println(table)
	fmt.Println(formatRatios(results))
	logf("total %s", time.Since(began).Round(time.Second))
	if *out != "" {
		text := report(results, o, time.Since(began))
		old, _ := os.ReadFile(*out)
		if *appnd {
			text = string(old) + "\n---\n\n" + strings.Replace(text, "# Benchmarks", "# A further run", 1)
		}
		text = keepFleetSection(string(old), text) // make bench-fleet's section
		if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		logf("wrote %s", *out)
	}
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// groups selects the scenarios whose name contains only and groups those
// that share an agent, in order.
func groups(all []scenario, only string) [][]scenario {
	var out [][]scenario
	for _, sc := range all {
		if only != "" && !strings.Contains(sc.name, only) {
			continue
		}
		if n := len(out); n > 0 && sc.agent != "" && out[n-1][0].agent == sc.agent {
			out[n-1] = append(out[n-1], sc)
			continue
		}
		out = append(out, []scenario{sc})
	}
	return out
}
