package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ctpl/ctpl/telemetry"
)

// Exit codes of `ctpl status`.
const (
	statusReady    = 0
	statusNotReady = 1
)

// runStatus is `ctpl status`: it prints the running agent's report, read
// from its listener (-addr) or its state directory (-state-dir).
func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ctpl status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "`address` of the running agent's metrics_addr listener")
	dir := fs.String("state-dir", "/var/lib/ctpl", "state `directory` holding status.json, read when -addr is not given")
	format := fs.String("format", "table", "output `format`: table or json")
	timeout := fs.Duration("timeout", 5*time.Second, "give up reaching the listener after this `duration`")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ctpl status [-addr host:port | -state-dir DIR] [-format table|json]\n\n"+
			"Prints the running agent's per-template state; exits 0 when ready, 1 when not.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitFlags
	}
	if *format != "table" && *format != "json" {
		fmt.Fprintf(stderr, "ctpl status: -format %q: want table or json\n", *format)
		return exitFlags
	}
	r, raw, err := readReport(ctx, *addr, *dir, *timeout)
	if err != nil {
		fmt.Fprintf(stderr, "ctpl status: %v\n", err)
		return exitError
	}
	if *format == "json" {
		stdout.Write(raw)
	} else {
		printReport(stdout, r, time.Now())
	}
	if !r.Ready {
		return statusNotReady
	}
	return statusReady
}

func readReport(ctx context.Context, addr, dir string, timeout time.Duration) (telemetry.Report, []byte, error) {
	var (
		raw []byte
		err error
		r   telemetry.Report
	)
	if addr != "" {
		raw, err = fetchStatus(ctx, addr, timeout)
	} else {
		raw, err = os.ReadFile(filepath.Join(dir, statusFileName))
		if errors.Is(err, os.ErrNotExist) {
			err = fmt.Errorf("%w (is ctpl running with state_dir %s? or give -addr)", err, dir)
		}
	}
	if err != nil {
		return r, nil, err
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return r, nil, fmt.Errorf("status report: %w", err)
	}
	return r, raw, nil
}

func fetchStatus(ctx context.Context, addr string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	url := addr
	if !strings.Contains(url, "://") {
		url = "http://" + addr
	}
	req, err := http.NewRequestWithContext(ctx, "GET", strings.TrimSuffix(url, "/")+"/status", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", req.URL, resp.Status)
	}
	return b, nil
}

// printReport writes the report as two tables: templates, then queries.
// The header says ready or not, and what is wrong even when ready. No line
// ends in blanks (the padding of an empty last column).
func printReport(out io.Writer, r telemetry.Report, now time.Time) {
	var b strings.Builder
	writeReport(&b, r, now)
	for l := range strings.Lines(b.String()) {
		io.WriteString(out, strings.TrimRight(l, " \n")+"\n")
	}
}

func writeReport(w io.Writer, r telemetry.Report, now time.Time) {
	fmt.Fprintf(w, "ctpl %s: %s (report %s)\n", r.Version, headline(r), reportAge(now, r.At))
	for _, why := range r.Reasons {
		fmt.Fprintf(w, "  - %s\n", why)
	}
	printStaleDatacenters(w, r.Datacenters)
	for _, warning := range r.ConfigWarnings {
		fmt.Fprintf(w, "config warning: %s\n", warning)
	}
	if e := r.Exec; e != nil {
		child := "not running"
		if e.PID != 0 {
			child = fmt.Sprintf("pid %d", e.PID)
		}
		fmt.Fprintf(w, "exec: %s: %s, started %d times\n", e.Command, child, e.Starts)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TEMPLATE\tDEST\tSTATE\tLAST RENDER\tLAST WRITE\tLAST RELOAD\tDETAIL")
	for _, t := range r.Templates {
		detail := t.Reason
		if len(t.Missing) > 0 {
			detail = strings.TrimPrefix(detail+"; waiting for "+strings.Join(t.Missing, ", "), "; ")
		}
		if detail == "" && t.LastChange != "" {
			detail = "last change: " + t.LastChange
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Source, t.Dest, t.State,
			agoText(now, t.LastRender), agoText(now, t.LastWrite), agoText(now, t.LastReload), oneLine(detail))
	}
	tw.Flush()
	if len(r.Queries) == 0 {
		return
	}
	fmt.Fprintln(w)
	fmt.Fprintln(tw, "QUERY\tINSTANCES\tDATA AGE\tERROR")
	for _, q := range r.Queries {
		age := time.Duration(q.AgeSeconds * float64(time.Second)).Round(time.Second).String()
		problem := q.Error
		switch {
		case problem == "" && q.LastOK.IsZero(): // no data to be old yet
			age, problem = "-", "awaiting its first answer"
		case problem == "" && q.Warning != "":
			problem = "warning: " + q.Warning
		}
		inst := "-"
		switch c := q.Instances; {
		case c == nil:
		case c.PassingOnly: // the failing ones are not returned: no total
			inst = fmt.Sprintf("%d passing", c.Passing)
		default:
			inst = fmt.Sprintf("%d/%d passing", c.Passing, c.Total)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", q.Query, inst, age, oneLine(problem))
	}
	tw.Flush()
}

// headline is the header's verdict: NOT READY, or ready followed by what
// is wrong all the same (templates held, degraded or failed, queries
// failing), and start-up progress while queries are unanswered.
func headline(r telemetry.Report) string {
	n := map[string]int{}
	for _, t := range r.Templates {
		n[t.State]++
	}
	failing := 0
	for _, q := range r.Queries {
		if q.Error != "" {
			failing++
		}
	}
	var problems []string
	for _, state := range []string{"held", "degraded", "failed"} {
		if n[state] > 0 {
			problems = append(problems, fmt.Sprintf("%d %s", n[state], state))
		}
	}
	if failing > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d queries failing", failing, len(r.Queries)))
	}
	if p := r.Progress; p != nil && p.Waiting > 0 {
		problems = append(problems, fmt.Sprintf("waiting for %d of %d queries", p.Waiting, p.Queries))
	}
	verdict := "ready"
	switch {
	case r.Stopped:
		verdict = "STOPPED"
	case !r.Ready:
		verdict = "NOT READY"
	}
	if len(problems) == 0 {
		return verdict
	}
	if r.Ready {
		verdict = "ready, but"
	}
	if r.Stopped {
		verdict += " with"
	}
	return verdict + ": " + strings.Join(problems, ", ")
}

// reportAge says how old the report is: "just taken" within a second.
func reportAge(now, at time.Time) string {
	if d := now.Sub(at); d >= time.Second {
		return ago(now, at) + " old"
	}
	return "just taken"
}

// ago renders how long before now t was, compactly; "-" for never.
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Second:
		return "now"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// agoText is ago with " ago" after a duration.
func agoText(now, t time.Time) string {
	s := ago(now, t)
	if s == "-" || s == "now" {
		return s
	}
	return s + " ago"
}

// oneLine joins s's lines into one; it never cuts: DETAIL and ERROR are
// the reason an operator runs ctpl status.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
