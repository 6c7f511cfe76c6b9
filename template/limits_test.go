package template_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

func TestExecuteTemplateDepthLimit(t *testing.T) {
	tests := []struct {
		name    string
		text    string
		want    string // output, when no error is wanted
		wantErr string
	}{
		{
			name:    "calls itself",
			text:    `{{define "a"}}{{executeTemplate "a"}}{{end}}x{{executeTemplate "a"}}`,
			wantErr: `executeTemplate "a" nested more than 1000 deep`,
		},
		{
			name:    "two calling each other",
			text:    `{{define "a"}}{{executeTemplate "b"}}{{end}}{{define "b"}}{{executeTemplate "a"}}{{end}}{{executeTemplate "a"}}`,
			wantErr: `nested more than 1000 deep`,
		},
		{
			name: "deep but bounded",
			text: `{{define "n"}}{{if lt . 999}}{{executeTemplate "n" (add . 1)}}{{else}}{{.}}{{end}}{{end}}{{executeTemplate "n" 0}}`,
			want: "999",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := template.Parse("rec.tmpl", tc.text, template.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tmpl.Execute(mapData{})
			if tc.wantErr == "" {
				if err != nil || string(res.Output) != tc.want {
					t.Fatalf("got %q, %v; want %q", res.Output, err, tc.want)
				}
				return
			}
			if !errors.Is(err, template.ErrLimit) || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "rec.tmpl: ") {
				t.Fatalf("got error %v; want one wrapping ErrLimit naming rec.tmpl and containing %q", err, tc.wantErr)
			}
			if len(err.Error()) > 300 {
				t.Errorf("error of %d bytes: the message grew at every level", len(err.Error()))
			}
		})
	}
}

func TestRenderLimits(t *testing.T) {
	services := watch.NewStore()
	names := make([]string, 200)
	for i := range names {
		names[i] = "s" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		setService(services, names[i], "10.0.0.1")
	}
	setCatalog(services, names...)
	tests := []struct {
		name    string
		text    string
		opts    template.Options
		data    template.Data
		cancel  bool // the context is cancelled before the execution
		wantErr string
	}{
		{
			name:    "output over max_output_bytes",
			text:    `{{range loop 1000000}}0123456789{{end}}`,
			opts:    template.Options{MaxOutput: 1000},
			wantErr: "output passed max_output_bytes (1000 bytes)",
		},
		{
			name:    "output of executeTemplate over max_output_bytes",
			text:    `{{define "big"}}{{range loop 1000}}0123456789{{end}}{{end}}{{executeTemplate "big" | len}}`,
			opts:    template.Options{MaxOutput: 1000},
			wantErr: "max_output_bytes",
		},
		{
			name:    "incremental fragments over max_output_bytes",
			text:    `{{range services}}{{range service .Name}}server {{.Address}}:{{.Port}} {{.Name}};{{end}}{{end}}`,
			opts:    template.Options{MaxOutput: 1000},
			data:    services,
			wantErr: "max_output_bytes",
		},
		{
			name:    "a loop writing, over max_render_time",
			text:    `{{range loop 4000000000}}x{{end}}`,
			opts:    template.Options{MaxRenderTime: 20 * time.Millisecond, MaxOutput: 1 << 40},
			wantErr: "still running after max_render_time (20ms)",
		},
		{
			name:    "a loop writing nothing, over max_render_time",
			text:    `{{range loop 4000000000}}{{end}}`,
			opts:    template.Options{MaxRenderTime: 20 * time.Millisecond},
			wantErr: "max_render_time",
		},
		{
			name:    "nested loops calling nothing but loop, over max_render_time",
			text:    `{{range loop 100000}}{{range loop 100000}}{{end}}{{end}}`,
			opts:    template.Options{MaxRenderTime: 20 * time.Millisecond},
			wantErr: "max_render_time",
		},
		{
			name:    "context ended",
			text:    `{{range loop 4000000000}}x{{end}}`,
			opts:    template.Options{MaxOutput: 1 << 40},
			cancel:  true,
			wantErr: "render abandoned: context canceled",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			tmpl, err := template.Parse("big.tmpl", tc.text, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			data := tc.data
			if data == nil {
				data = mapData{}
			}
			start := time.Now()
			res, err := tmpl.ExecuteContext(ctx, data)
			if !errors.Is(err, template.ErrLimit) || !strings.Contains(err.Error(), tc.wantErr) || !strings.HasPrefix(err.Error(), "big.tmpl: ") {
				t.Fatalf("got error %v; want one wrapping ErrLimit naming big.tmpl and containing %q", err, tc.wantErr)
			}
			if len(res.Output) != 0 {
				t.Errorf("an abandoned render returned %d bytes of output", len(res.Output))
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("abandoned after %s", d)
			}
			// The feeders are waited for; a context's AfterFunc may still be
			// ending on its own goroutine.
			for deadline := time.Now().Add(2 * time.Second); runtime.NumGoroutine() > before; runtime.Gosched() {
				if time.Now().After(deadline) {
					t.Fatalf("%d goroutines after the execution, %d before: a loop feeder was left running", runtime.NumGoroutine(), before)
				}
			}
		})
	}
}
