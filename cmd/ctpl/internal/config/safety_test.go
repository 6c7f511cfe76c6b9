package config

import (
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/renderer"
)

func TestSafetyConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
		check   func(t *testing.T, cfg Config, tpl renderer.Template, opts renderer.Options)
	}{
		{
			name: "defaults",
			yaml: "templates: [{contents: x, destination: /tmp/x}]",
			check: func(t *testing.T, cfg Config, tpl renderer.Template, opts renderer.Options) {
				if opts.MinReloadInterval != time.Second || tpl.OnEmpty != "" || tpl.MaxShrink != 0 || !tpl.Check.IsZero() {
					t.Errorf("defaults: interval %v, on_empty %q, max_shrink %v, check %v", opts.MinReloadInterval, tpl.OnEmpty, tpl.MaxShrink, tpl.Check)
				}
			},
		},
		{
			name: "every key",
			yaml: `min_reload_interval: 3s
state_dir: /var/lib/ctpl
templates:
  - contents: x
    destination: /tmp/x
    check: [nginx, -t, -c, "{{.Staged}}"]
    check_timeout: 5s
    on_empty: allow
    max_shrink: "50%"
`,
			check: func(t *testing.T, cfg Config, tpl renderer.Template, opts renderer.Options) {
				if opts.MinReloadInterval != 3*time.Second || opts.StateDir != "/var/lib/ctpl" {
					t.Errorf("options %+v", opts)
				}
				if got := tpl.Check.WithStaged("/s").String(); got != "nginx -t -c /s" {
					t.Errorf("check %q", got)
				}
				if tpl.CheckTimeout != 5*time.Second || tpl.OnEmpty != "allow" || tpl.MaxShrink != 0.5 {
					t.Errorf("template %+v", tpl)
				}
			},
		},
		{
			name: "zero interval runs every reload",
			yaml: "min_reload_interval: 0s\ntemplates: [{contents: x, destination: /tmp/x, check: 'nginx -t', max_shrink: '0.25'}]",
			check: func(t *testing.T, cfg Config, tpl renderer.Template, opts renderer.Options) {
				if opts.MinReloadInterval >= 0 || !tpl.Check.Shell || tpl.MaxShrink != 0.25 {
					t.Errorf("interval %v, check %+v, max_shrink %v", opts.MinReloadInterval, tpl.Check, tpl.MaxShrink)
				}
			},
		},
		{name: "bad on_empty", yaml: "templates: [{contents: x, destination: /tmp/x, on_empty: drop}]", wantErr: "on_empty"},
		{name: "bad max_shrink", yaml: "templates: [{contents: x, destination: /tmp/x, max_shrink: 150%}]", wantErr: "max_shrink"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := loadText(t, "c.yaml", tc.yaml)
			if err != nil {
				t.Fatal(err)
			}
			tpls, err := cfg.BuildTemplates()
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var opts renderer.Options
			cfg.SafetyOptions(&opts)
			tc.check(t, cfg, tpls[0], opts)
		})
	}
}
