package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDCConfig(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantErr string
	}{
		{name: "every key", yaml: `
ready_ignore: ["@dc2", "kv.get(config/region@dc3)"]
prepared_query_interval: 2s
templates:
  - {contents: x, destination: /tmp/x, ready_ignore: ["@dc2"], hold_kv_lists: true}
`},
		{name: "a bare datacenter", yaml: "ready_ignore: [dc2]\n", wantErr: `"dc2": want @datacenter or a query`},
		{name: "a query in a template", yaml: "templates: [{contents: x, destination: /tmp/x, ready_ignore: [\"kv.get(a)\"]}]\n",
			wantErr: `template 1: ready_ignore: "kv.get(a)": want @datacenter`},
		{name: "an empty datacenter", yaml: "ready_ignore: [\"@\"]\n", wantErr: `"@": want @ and a datacenter name`},
		{name: "negative interval", yaml: "prepared_query_interval: -1s\n", wantErr: "prepared_query_interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			y := tc.yaml
			if !strings.Contains(y, "templates:") {
				y += "templates: [{contents: x, destination: /tmp/x}]\n"
			}
			cfg, _, err := loadText(t, "c.yaml", y)
			if err == nil {
				err = cfg.Validate()
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, ignore := cfg.Readiness(); !slices.Equal(ignore, []string{"@dc2", "kv.get(config/region@dc3)"}) ||
				cfg.PreparedQueryInterval != 2*time.Second {
				t.Errorf("top level: %v %v", ignore, cfg.PreparedQueryInterval)
			}
			ts, err := cfg.BuildTemplates()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ts[0].ReadyIgnore, []string{"@dc2"}) || !ts[0].HoldKVLists {
				t.Errorf("template: ready_ignore %v, hold_kv_lists %v", ts[0].ReadyIgnore, ts[0].HoldKVLists)
			}
		})
	}
}
