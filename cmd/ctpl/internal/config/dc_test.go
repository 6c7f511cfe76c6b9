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
		{name: "milliseconds for seconds", yaml: "prepared_query_interval: 5ms\n", wantErr: "prepared_query_interval: 5ms: at least 1s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, ok := loadValid(t, tc.yaml, tc.wantErr)
			if !ok {
				return
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

func TestReadyIgnoreDefault(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{name: "unset: every remote datacenter", yaml: "", want: []string{"@*"}},
		{name: "a list replaces the default", yaml: "ready_ignore: [\"@dc3\"]\n", want: []string{"@dc3"}},
		{name: "an empty list counts every datacenter", yaml: "ready_ignore: []\n", want: []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _ := loadValid(t, tc.yaml, "")
			if _, got := cfg.Readiness(); !slices.Equal(got, tc.want) {
				t.Errorf("ready_ignore = %q, want %q", got, tc.want)
			}
		})
	}
}

// loadValid loads y, with a template added when it names none, and
// validates it. With wantErr it fails the test unless loading or
// validating fails with an error containing wantErr, and returns false;
// otherwise it fails the test on any error and returns the config.
func loadValid(t *testing.T, y, wantErr string) (Config, bool) {
	t.Helper()
	if !strings.Contains(y, "templates:") {
		y += "templates: [{contents: x, destination: /tmp/x}]\n"
	}
	cfg, _, err := loadText(t, "c.yaml", y)
	if err == nil {
		err = cfg.Validate()
	}
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("err = %v, want %q", err, wantErr)
		}
		return cfg, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return cfg, true
}
