package main

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The fleet section of docs/benchmarks.md lies between these markers;
// `make bench` keeps it when it rewrites the file.
const (
	fleetBegin = "<!-- fleet:begin -->"
	fleetEnd   = "<!-- fleet:end -->"
)

var fleetHeader = []string{"scenario", "tool", "server CPU ms / change / agent", "server RPCs / change / agent",
	"client-agent CPU ms / change / agent", "tool CPU ms / change / agent", "flip p50", "flip p99",
	"per-agent p50", "per-agent p99", "first render", "max conns / agent", "runs"}

func mdRow(cells ...string) string { return "| " + strings.Join(cells, " | ") + " |\n" }

func mdHeader(cells ...string) string {
	return mdRow(cells...) + "|" + strings.Repeat(" --- |", len(cells)) + "\n"
}

// fleetTable renders the median rows.
func fleetTable(rows []fleetRow) string {
	var b strings.Builder
	b.WriteString(mdHeader(fleetHeader...))
	for _, w := range rows {
		runs := fmt.Sprintf("%d/%d", w.ok, w.runs)
		if w.ok == 0 {
			b.WriteString(mdRow(w.scenario, w.tool, "failed: "+w.err, "–", "–", "–", "–", "–", "–", "–", "–", "–", runs))
			continue
		}
		n := w.n
		b.WriteString(mdRow(w.scenario, w.tool, fmt.Sprintf("%.2f", n.serverCPU), fmt.Sprintf("%.2f", n.serverRPCs),
			fmt.Sprintf("%.2f", n.clientCPU), fmt.Sprintf("%.2f", n.toolCPU), fmtDur(n.flipP50), fmtDur(n.flipP99),
			fmtDur(n.agentP50), fmtDur(n.agentP99), fmtDur(n.firstRender), fmt.Sprint(n.conns), runs))
	}
	return b.String()
}

// fleetRatios divides consul-template's server costs by ctpl's, per
// scenario.
func fleetRatios(rows []fleetRow) string {
	var b strings.Builder
	b.WriteString(mdHeader("scenario", "server CPU (consul-template ÷ ctpl)", "server RPCs (consul-template ÷ ctpl)"))
	for _, c := range rows {
		if c.tool != ctplTool.name {
			continue
		}
		i := slices.IndexFunc(rows, func(w fleetRow) bool { return w.scenario == c.scenario && w.tool == consulTemplateTool.name })
		if i < 0 {
			continue
		}
		ct := rows[i]
		if c.ok == 0 || ct.ok == 0 {
			b.WriteString(mdRow(c.scenario, fmt.Sprintf("ctpl rendered: %s, consul-template rendered: %s", yes(c.ok > 0), yes(ct.ok > 0)), ""))
			continue
		}
		b.WriteString(mdRow(c.scenario, ratioOf(c.n.serverCPU, ct.n.serverCPU), ratioOf(c.n.serverRPCs, ct.n.serverRPCs)))
	}
	return b.String()
}

// ratioOf returns b ÷ a (consul-template's ÷ ctpl's), or says why there is
// none; a cost at or below the baseline shows both numbers.
func ratioOf(a, b float64) string {
	switch r := b / a; {
	case a <= 0:
		return fmt.Sprintf("– (ctpl %.2f, consul-template %.2f)", a, b)
	case r < 0.05:
		return fmt.Sprintf("≈ 0× (consul-template %.2f, ctpl %.2f)", b, a)
	case r < 1:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("%.1f×", r)
	}
}

// fleetRawTable shows every run's raw measurements, baseline and tool
// phase side by side, so that the subtraction can be judged.
func fleetRawTable(runs []fleetResult) string {
	var b strings.Builder
	b.WriteString(mdHeader("scenario", "tool", "run", "phase s (baseline / tools)", "server CPU ms", "server RPCs",
		"client-agent CPU ms", "tool CPU ms", "flips (missed, late)", "cluster settled / tools idle after", "took"))
	for _, r := range runs {
		p, base := r.phase, r.base
		b.WriteString(mdRow(r.scenario, r.tool, fmt.Sprint(r.run),
			fmt.Sprintf("%.1f / %.1f", base.dur.Seconds(), p.dur.Seconds()),
			fmt.Sprintf("%.0f / %.0f", ms(base.serverCPU), ms(p.serverCPU)),
			fmt.Sprintf("%.0f / %.0f", base.rpcs, p.rpcs),
			fmt.Sprintf("%.0f / %.0f", ms(base.clientCPU), ms(p.clientCPU)),
			fmt.Sprintf("%.0f", ms(p.toolCPU)),
			fmt.Sprintf("%d (%d, %d)", p.flips, p.missed, p.late),
			fmtDur(r.quiet)+" / "+fmtDur(r.settled), r.took.Round(time.Second).String()))
	}
	return b.String()
}

// fleetEndpointTable lists, per run, the HTTP requests the client agents
// served by endpoint and the RPCs they sent to the servers, per change per
// agent, the baseline subtracted, most first.
func fleetEndpointTable(runs []fleetResult) string {
	var b strings.Builder
	b.WriteString(mdHeader("scenario", "tool", "run", "per change per agent: client-agent HTTP requests by endpoint; client RPCs to the servers"))
	for _, r := range runs {
		if !r.rendered {
			continue
		}
		eps := r.endpointsPerChange()
		keys := make([]string, 0, len(eps))
		for k := range eps {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(x, y string) int {
			return cmp.Or(cmp.Compare(eps[y], eps[x]), strings.Compare(x, y))
		})
		var cells []string
		for _, k := range keys[:min(len(keys), 6)] {
			cells = append(cells, fmt.Sprintf("%s %.2f", strings.ReplaceAll(k, "_", "/"), eps[k]))
		}
		list := "–"
		if len(cells) > 0 {
			list = "`" + strings.Join(cells, "`, `") + "`"
		}
		b.WriteString(mdRow(r.scenario, r.tool, fmt.Sprint(r.run), list))
	}
	return b.String()
}

// fleetReport is the fleet section of docs/benchmarks.md, markers
// included.
func fleetReport(rows []fleetRow, runs []fleetResult, fo fleetOptions, took time.Duration) string {
	var b strings.Builder
	b.WriteString(fleetBegin + "\n## Fleet: what each tool costs Consul's servers\n\n")
	b.WriteString("Generated by `make bench-fleet` (`go run ./tools/bench -fleet`); do not edit by hand.\n\n")
	fmt.Fprintf(&b, "- Commit: %s\n", firstLine("git", "rev-parse", "--short", "HEAD"))
	fmt.Fprintf(&b, "- Date: %s\n- Machine: %s\n- Go %s; %s; %s\n", time.Now().UTC().Format("2006-01-02 15:04 MST"),
		machine(), strings.TrimPrefix(runtime.Version(), "go"), firstLine("bin/consul", "version"), firstLine("bin/consul-template", "-version"))
	fmt.Fprintf(&b, "- Run: %d health flips per phase, one every %s; %d fresh cluster(s) per tool and scenario (medians); took %s\n\n",
		fo.flips, fo.period, fo.runs, took.Round(time.Second))
	b.WriteString(fleetMethod)
	b.WriteString(fleetTable(rows))
	b.WriteString("\nRatios (consul-template's cost to the servers ÷ ctpl's; above 1× ctpl costs the servers less):\n\n")
	b.WriteString(fleetRatios(rows))
	b.WriteString("\nRaw measurements of every run, baseline / tool phase (CPU summed over the servers, the client agents,\n" +
		"the tools; RPCs summed over the servers):\n\n")
	b.WriteString(fleetRawTable(runs))
	b.WriteString("\nWhat the tools asked their client agents for, and what the client agents asked the servers, per\n" +
		"change per agent with the baseline subtracted (consul_api_http_count by endpoint and consul_client_rpc of\n" +
		"the client agents; \"client RPCs\" does not include streamed health events, which are not RPCs):\n\n")
	b.WriteString(fleetEndpointTable(runs))
	b.WriteString(fleetEnd + "\n")
	return b.String()
}

const fleetMethod = "Each tool and scenario gets a fresh cluster on 127.0.0.1: " + "3 Consul servers and 4 or 16 client\n" +
	"agents (ACLs on, default policy deny), seeded through the leader with the management token (the bench's\n" +
	"`/v1/txn` seeding). One tool instance runs per client agent, talking to that agent's HTTP address with a\n" +
	"least-privilege token (`service_prefix \"\" { policy = \"read\" } node_prefix \"\" { policy = \"read\" }\n" +
	"agent_prefix \"\" { policy = \"read\" }`), each rendering the bench template over every service. Every agent\n" +
	"runs with `limits { http_max_conns_per_client = 4096 }`: consul-template holds one connection per query and\n" +
	"Consul refuses a client's 201st connection by default, so it could not render at 1,000×10 (nor at 200×10:\n" +
	"201 queries) without it.\n\n" +
	"Before any tool starts, and once the servers are idle, the same health flips are made with no tool running\n" +
	"(the baseline). Then the tools start; first render is the slowest agent's, from its process's start; the\n" +
	"flips begin once every tool is idle (under 5% of a core over half a second, at most 10 s). Each flip sets\n" +
	"one instance critical or passing again through the leader and waits until every agent's file shows it;\n" +
	"flip p50/p99 are over the slowest agent of each flip, per-agent p50/p99 over every agent's file. Flips\n" +
	"start on a fixed schedule in both phases, so both last the same time. Server CPU is utime+stime of the\n" +
	"server processes (/proc/<pid>/stat) summed; server RPCs are the servers' `consul_rpc_request` plus\n" +
	"`consul_rpc_query` (a blocking query counts in both; a read a follower forwards to the leader counts on\n" +
	"both). Per change per agent = (tool phase − baseline × the phases' duration ratio) ÷ flips ÷ agents, for\n" +
	"the servers and for the client agents; the tools' own CPU has no baseline. Before the baseline the\n" +
	"cluster settles (servers idle and their RPCs per 2 s steady: a fresh cluster serves a burst of RPCs in\n" +
	"its first seconds). CPU is counted in 10 ms ticks, and an idle 3-server cluster here uses 50–90 ms of\n" +
	"CPU a second between its servers, varying by about 20 ms from second to second: with 50 flips a server\n" +
	"CPU difference under about 0.3 ms per change per agent at 4 agents (0.1 ms at 16) is noise; the raw\n" +
	"table below lets it be judged. Max conns is the most TCP connections one tool process held to its\n" +
	"client agent (sampled every second).\n\n"

// writeFleetSection replaces the fleet section of the file at path, or
// appends it when there is none (creating the file if needed).
func writeFleetSection(path, section string) error {
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read %s: %w", path, err)
	}
	text := string(old)
	if i, j := strings.Index(text, fleetBegin), strings.Index(text, fleetEnd); i >= 0 && j > i {
		text = text[:i] + section + strings.TrimPrefix(text[j+len(fleetEnd):], "\n")
	} else {
		if text != "" {
			text = strings.TrimRight(text, "\n") + "\n\n"
		}
		text += section
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// keepFleetSection appends old's fleet section to text, which `make bench`
// is about to write over old, unless text has one.
func keepFleetSection(old, text string) string {
	i, j := strings.Index(old, fleetBegin), strings.Index(old, fleetEnd)
	if i < 0 || j < i || strings.Contains(text, fleetBegin) {
		return text
	}
	return strings.TrimRight(text, "\n") + "\n\n" + old[i:j+len(fleetEnd)] + "\n"
}
