package main

import (
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/telemetry"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func sampleReport(now time.Time) telemetry.Report {
	src := telemetry.Sources{
		Status: func() renderer.Status {
			return renderer.Status{Ready: false, Templates: []renderer.TemplateStatus{
				{Source: "/etc/ctpl/web.tmpl", Dest: "/etc/nginx/conf.d/web.conf", State: "ok",
					LastRender: now.Add(-12 * time.Second), LastWrite: now.Add(-5 * time.Minute),
					LastReload: now.Add(-5*time.Minute + time.Second),
					LastChange: "health.service(web): 1 added, 0 removed, 0 modified"},
				{Source: "/etc/ctpl/api.tmpl", Dest: "/etc/nginx/conf.d/api.conf", State: "held",
					Reason:     "health.service(api): every instance gone; keeping the last good file",
					LastRender: now.Add(-3 * time.Hour), LastWrite: now.Add(-3 * time.Hour)},
				{Source: "/etc/ctpl/dns.tmpl", Dest: "/etc/dnsmasq.d/hosts", State: "pending",
					Missing: []string{"kv.get(dns/zone)"}},
			}, Queries: 3, Waiting: 1, Instances: map[string]renderer.InstanceCount{
				"health.service(web)":    {Passing: 2, Total: 2, PassingOnly: true},
				"health.service(db|any)": {Passing: 1, Total: 2}}}
		},
		Freshness: func() map[string]telemetry.Query {
			return map[string]telemetry.Query{
				"health.service(web)":    {LastOK: now},
				"health.service(db|any)": {LastOK: now},
				"health.service(api)": {LastOK: now.Add(-4 * time.Minute), Err: "connection refused",
					ErrSince: now.Add(-3 * time.Minute)},
			}
		},
	}
	return telemetry.NewReport(src, "v0.1.0", telemetry.Readiness{MaxDataAge: time.Minute}, now)
}

func TestStatusTableGolden(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	var b strings.Builder
	printReport(&b, sampleReport(now), now.Add(2*time.Second))
	golden := filepath.Join("testdata", "status.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("status table:\n%s\nwant:\n%s", b.String(), want)
	}
	for l := range strings.Lines(b.String()) {
		if strings.HasSuffix(l, " \n") {
			t.Errorf("line ends in blanks: %q", l)
		}
	}
}

// TestStatusFromStateDir writes the report as the daemon does and reads it
// back through `ctpl status -state-dir`.
func TestStatusFromStateDir(t *testing.T) {
	dir := t.TempDir()
	sf := newStatusFile(dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sf.maybeWrite(sampleReport(time.Now()))

	var stdout, stderr syncBuffer
	code := run(t.Context(), []string{"status", "-state-dir", dir}, &stdout, &stderr)
	if code != statusNotReady {
		t.Fatalf("ctpl status = %d (%s), want %d: the sample is not ready", code, stderr.String(), statusNotReady)
	}
	for _, want := range []string{"NOT READY", "/etc/nginx/conf.d/api.conf", "held", "waiting for kv.get(dns/zone)",
		"connection refused"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("status output lacks %q:\n%s", want, stdout.String())
		}
	}
	stdout = syncBuffer{}
	if code := run(t.Context(), []string{"status", "-state-dir", dir, "-format", "json"}, &stdout, &stderr); code != statusNotReady ||
		!strings.Contains(stdout.String(), `"state": "pending"`) {
		t.Errorf("json: %d %s", code, stdout.String())
	}
	if code := run(t.Context(), []string{"status", "-state-dir", t.TempDir()}, io.Discard, &stderr); code != exitError {
		t.Errorf("missing status file: exit %d", code)
	}
	if code := run(t.Context(), []string{"status", "-format", "xml"}, io.Discard, io.Discard); code != exitFlags {
		t.Errorf("bad format: exit %d", code)
	}
}

func TestStatusHeader(t *testing.T) {
	now := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	long := strings.Repeat("nginx: [emerg] unknown directive ", 10)
	tests := []struct {
		name   string
		status renderer.Status
		fresh  map[string]telemetry.Query
		at     time.Time // when the report is printed
		want   []string  // in the output
		refuse []string  // not in the output
	}{
		{name: "ready while a template is held and a query fails",
			status: renderer.Status{Ready: true, Templates: []renderer.TemplateStatus{
				{Source: "a", Dest: "/a", State: "held", Reason: long}}},
			fresh:  map[string]telemetry.Query{"q": {Err: "refused", ErrSince: now}},
			at:     now.Add(300 * time.Millisecond),
			want:   []string{"ctpl v: ready, but: 1 held, 1 of 1 queries failing (report just taken)", strings.TrimSpace(long)},
			refuse: []string{"now ago", "..."}},
		{name: "start-up", at: now.Add(3 * time.Second),
			status: renderer.Status{Queries: 2001, Waiting: 478, Templates: []renderer.TemplateStatus{{Source: "a", Dest: "/a", State: "pending"}}},
			fresh:  map[string]telemetry.Query{"kv.get(a)": {}, "kv.get(b)": {LastOK: now}},
			want: []string{"NOT READY: waiting for 478 of 2001 queries (report 3s old)",
				"  - waiting for 478 of 2001 queries (1 of 1 templates not rendered yet)",
				"kv.get(a)  -          -         awaiting its first answer\n",
				"kv.get(b)  -          0s\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := telemetry.Sources{Status: func() renderer.Status { return tc.status },
				Freshness: func() map[string]telemetry.Query { return tc.fresh }}
			var b strings.Builder
			printReport(&b, telemetry.NewReport(src, "v", telemetry.Readiness{MaxDataAge: time.Hour}, now), tc.at)
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			for _, r := range tc.refuse {
				if strings.Contains(b.String(), r) {
					t.Errorf("output has %q:\n%s", r, b.String())
				}
			}
		})
	}
}
