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
					LastReload: now.Add(-5*time.Minute + time.Second)},
				{Source: "/etc/ctpl/api.tmpl", Dest: "/etc/nginx/conf.d/api.conf", State: "held",
					Reason:     "health.service(api): every instance gone; keeping the last good file",
					LastRender: now.Add(-3 * time.Hour), LastWrite: now.Add(-3 * time.Hour)},
				{Source: "/etc/ctpl/dns.tmpl", Dest: "/etc/dnsmasq.d/hosts", State: "pending",
					Missing: []string{"kv.get(dns/zone)"}},
			}}
		},
		Freshness: func() map[string]telemetry.Query {
			return map[string]telemetry.Query{
				"health.service(web)": {LastOK: now},
				"health.service(api)": {LastOK: now.Add(-4 * time.Minute), Err: "connection refused",
					ErrSince: now.Add(-3 * time.Minute)},
			}
		},
	}
	return telemetry.NewReport(src, "v0.1.0", time.Minute, now)
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
