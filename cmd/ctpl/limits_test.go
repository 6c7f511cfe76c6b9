package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunawayTemplatesEndTheRun runs ctpl -once on templates that would
// run away: a loop writing hundreds of megabytes under -once-timeout and
// max_render_time, and executeTemplate calling itself. Each run fails
// naming the template and the limit, soon, and writes nothing.
func TestRunawayTemplatesEndTheRun(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		conf    string // extra keys of the template
		timeout string // -once-timeout
		within  time.Duration
		wantErr string
	}{
		{name: "loop past -once-timeout", text: `{{range loop 30000000}}abcdefgh{{end}}`, timeout: "1s",
			within: 6 * time.Second, wantErr: "render abandoned: context deadline exceeded"},
		{name: "loop past max_render_time", text: `{{range loop 3000000000}}abcdefgh{{end}}`,
			conf: "    max_render_time: 500ms\n    max_output_bytes: 100000000000\n", timeout: "60s",
			within: 6 * time.Second, wantErr: "still running after max_render_time (500ms)"},
		{name: "loop past max_output_bytes", text: `{{range loop 30000000}}abcdefgh{{end}}`,
			conf: "    max_output_bytes: 1000000\n", timeout: "60s",
			within: 6 * time.Second, wantErr: "output passed max_output_bytes (1000000 bytes)"},
		{name: "executeTemplate calling itself", text: `{{define "a"}}{{executeTemplate "a"}}{{end}}{{executeTemplate "a"}}`,
			timeout: "60s", within: 6 * time.Second, wantErr: `nested more than 1000 deep`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			src := writeFile(t, filepath.Join(dir, "t.tmpl"), tc.text)
			out := filepath.Join(dir, "out")
			cfg := writeFile(t, filepath.Join(dir, "c.yaml"), "consul:\n  address: 127.0.0.1:1\ntemplates:\n  - source: "+src+
				"\n    destination: "+out+"\n"+tc.conf)
			var stderr syncBuffer
			begin := time.Now()
			code := run(t.Context(), []string{"-once", "-once-timeout", tc.timeout, "-config", cfg}, io.Discard, &stderr)
			took := time.Since(begin)
			if code != exitRunner || !strings.Contains(stderr.String(), src+": "+"render abandoned") || !strings.Contains(stderr.String(), tc.wantErr) {
				t.Fatalf("exit %d, want %d with %q; stderr:\n%s", code, exitRunner, tc.wantErr, stderr.String())
			}
			if took > tc.within {
				t.Errorf("the run took %s, want at most %s", took, tc.within)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("destination written: %v", err)
			}
		})
	}
}
