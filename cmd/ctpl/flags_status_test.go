package main

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/telemetry"
)

// TestConfigWarningsInStatus: what loading the configuration warned about
// (consul-template keys and flags ctpl ignores) is in /status and `ctpl
// status`, and a SIGHUP's new configuration replaces it.
func TestConfigWarningsInStatus(t *testing.T) {
	fs, fl := newFlagSet(io.Discard)
	if err := fs.Parse([]string{"-config", "internal/config/testdata/realworld/ecr-dedup.hcl", "-template", "a:/tmp/a",
		"-vault-addr", "http://vault:8200"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, fl)
	if err != nil || len(cfg.Warnings) != 3 {
		t.Fatalf("%v %q", err, cfg.Warnings)
	}
	o := newOps(cfg, slog.New(slog.DiscardHandler))
	o.attach(func() renderer.Status { return renderer.Status{} }, nil, nil)
	r := telemetry.NewReport(o.sources, "v", telemetry.Readiness{}, time.Now())
	if !slices.Equal(r.ConfigWarnings, cfg.Warnings) {
		t.Errorf("/status config_warnings %q, want %q", r.ConfigWarnings, cfg.Warnings)
	}
	var out strings.Builder
	printReport(&out, r, time.Now())
	if !strings.Contains(out.String(), "config warning: -vault-addr: ignored: ctpl has no Vault client") {
		t.Errorf("ctpl status does not show the warnings:\n%s", out.String())
	}
	reloaded := config.Default()
	o.reloaded(&reloaded)
	if r := telemetry.NewReport(o.sources, "v", telemetry.Readiness{}, time.Now()); len(r.ConfigWarnings) != 0 {
		t.Errorf("after a reload without warnings: %q", r.ConfigWarnings)
	}
}
