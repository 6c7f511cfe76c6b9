package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/renderer"
)

func TestDuplicateDestinationsAreRejectedWithTheirPlaces(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		flags   []string
		wantErr string // "" when the config is valid
	}{
		{name: "same path", yaml: "templates:\n  - contents: a\n    destination: /tmp/x/out\n  - contents: b\n    destination: /tmp/x/out\n",
			wantErr: "c.yaml:4: destination /tmp/x/out is also the destination of the template at c.yaml:2"},
		{name: "same after cleaning", yaml: "templates:\n  - contents: a\n    destination: /tmp/x/out\n\n  - contents: b\n    destination: /tmp/x/y/../out\n",
			wantErr: "c.yaml:5: destination /tmp/x/out is also the destination of the template at c.yaml:2"},
		{name: "a flag and a file", yaml: "templates:\n  - contents: a\n    destination: /tmp/x/out\n", flags: []string{"-template", "t.tmpl:/tmp/x//out"},
			wantErr: "-template: destination /tmp/x/out is also the destination of the template at c.yaml:2"},
		{name: "different", yaml: "templates:\n  - contents: a\n    destination: /tmp/x/out\n  - contents: b\n    destination: /tmp/x/out2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeFile(t, filepath.Join(dir, "c.yaml"), tc.yaml)
			fs, fl := newFlagSet(io.Discard)
			if err := fs.Parse(append([]string{"-config", path}, tc.flags...)); err != nil {
				t.Fatal(err)
			}
			_, err := loadConfig(fs, fl)
			want := strings.ReplaceAll(tc.wantErr, "c.yaml", path)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), want)):
				t.Fatalf("err = %v, want one containing %q", err, want)
			}
		})
	}
}

// A destination with ".." is cleaned once: create_dest_dirs creates the
// directory the file is then renamed into.
func TestDestinationWithDotDotIsWritten(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "t.tmpl"), "x")
	var stderr syncBuffer
	code := run(t.Context(), []string{"-once", "-once-timeout", "20s", "-consul-addr", "127.0.0.1:1",
		"-template", src + ":" + dir + "/a/../b/out"}, io.Discard, &stderr)
	if b, err := os.ReadFile(filepath.Join(dir, "b", "out")); code != 0 || err != nil || string(b) != "x" {
		t.Fatalf("exit %d, %q, %v; stderr:\n%s", code, b, err, stderr.String())
	}
}

// The same bad values in a config file are config errors (15), in daemon
// and once mode alike.
func TestBadLevelsAndAddressesInAConfigFile(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{name: "log level", key: "log_level: loud", want: `log_level: log level "loud"`},
		{name: "log format", key: "log_format: xml", want: `log_format: log format "xml"`},
		{name: "metrics address", key: "metrics_addr: metrics.example:9", want: "metrics_addr"},
	}
	for _, tc := range tests {
		for _, mode := range [][]string{nil, {"-once"}} {
			t.Run(tc.name+fmt.Sprint(mode), func(t *testing.T) {
				cfg := writeFile(t, filepath.Join(t.TempDir(), "c.yaml"), tc.key+"\ntemplates:\n  - contents: x\n    destination: /tmp/x\n")
				var stderr syncBuffer
				code := run(t.Context(), append(mode, "-config", cfg), io.Discard, &stderr)
				if code != exitConfig || !strings.Contains(stderr.String(), tc.want) {
					t.Fatalf("exit %d, want %d with %q; stderr:\n%s", code, exitConfig, tc.want, stderr.String())
				}
			})
		}
	}
}

// -consul-token warns that the process list shows it.
func TestConsulTokenFlagWarns(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, filepath.Join(dir, "t.tmpl"), "x")
	var stderr syncBuffer
	run(t.Context(), []string{"-once", "-once-timeout", "20s", "-consul-addr", "127.0.0.1:1", "-consul-token", "s3cret",
		"-template", src + ":" + filepath.Join(dir, "out")}, io.Discard, &stderr)
	if !strings.Contains(stderr.String(), "-consul-token shows the token") || !strings.Contains(stderr.String(), "token_file") {
		t.Fatalf("no warning about -consul-token; stderr:\n%s", stderr.String())
	}
	if strings.Contains(stderr.String(), "s3cret") {
		t.Fatalf("the token was logged:\n%s", stderr.String())
	}
}

// TestSandboxThroughTheCommand runs ctpl -once on templates reading files
// inside and outside sandbox_path: the first renders, the second fails
// naming its file, line and column, and its destination is not touched.
func TestSandboxThroughTheCommand(t *testing.T) {
	dir := t.TempDir()
	sandbox := filepath.Join(dir, "sandbox")
	if err := os.Mkdir(sandbox, 0o755); err != nil {
		t.Fatal(err)
	}
	inside := writeFile(t, filepath.Join(sandbox, "in.txt"), "inside")
	outside := writeFile(t, filepath.Join(dir, "secret.txt"), "secret")
	if err := os.Symlink(outside, filepath.Join(sandbox, "link.txt")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantOut string // "" when the run must fail
	}{
		{name: "inside", path: inside, wantOut: "[inside]"},
		{name: "through a symlink out", path: filepath.Join(sandbox, "link.txt")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFile(t, filepath.Join(t.TempDir(), "t.tmpl"), "x\n[{{ file \""+tc.path+"\" }}]")
			out := filepath.Join(t.TempDir(), "out")
			cfg := writeFile(t, filepath.Join(t.TempDir(), "c.yaml"), "template_defaults:\n  sandbox_path: "+sandbox+
				"\ntemplates:\n  - source: "+src+"\n    destination: "+out+"\n")
			var stderr syncBuffer
			code := run(t.Context(), []string{"-once", "-once-timeout", "20s", "-config", cfg}, io.Discard, &stderr)
			b, _ := os.ReadFile(out)
			if tc.wantOut != "" {
				if code != 0 || string(b) != "x\n"+tc.wantOut {
					t.Fatalf("exit %d, output %q, stderr %s", code, b, stderr.String())
				}
				return
			}
			if code == 0 || b != nil || !strings.Contains(stderr.String(), src+":2:4") || !strings.Contains(stderr.String(), "outside the sandbox") {
				t.Fatalf("exit %d, output %q, stderr %s; want a failure naming %s:2:4", code, b, stderr.String(), src)
			}
		})
	}
}

func TestMetricsListenerErrors(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tmpl := writeFile(t, filepath.Join(t.TempDir(), "t.tmpl"), "x")
	tests := []struct {
		name, addr string
		code       int
		log        string
	}{
		{name: "not an address", addr: "127.0.0.1:notaport", code: exitFlags, log: "-metrics-addr"},
		{name: "no port", addr: "127.0.0.1", code: exitFlags, log: "-metrics-addr"},
		{name: "in use", addr: busy.Addr().String(), code: exitError, log: "address already in use"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr syncBuffer
			code := run(t.Context(), []string{"-template", tmpl + ":" + tmpl + ".out", "-metrics-addr", tc.addr,
				"-consul-addr", "127.0.0.1:1"}, &syncBuffer{}, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.log) {
				t.Fatalf("exit %d, want %d with %q; log:\n%s", code, tc.code, tc.log, stderr.String())
			}
		})
	}
}

func TestStatusLine(t *testing.T) {
	tests := []struct {
		name    string
		states  []string
		waiting int
		want    string
	}{
		{name: "all ok", states: []string{"ok", "ok"}, want: "2 templates, 5 queries, 0 held, 0 degraded"},
		{name: "mixed", states: []string{"ok", "held", "degraded", "pending", "failed", "held"},
			want: "6 templates, 5 queries, 2 held, 1 degraded, 1 pending, 1 failed"},
		{name: "start-up", states: []string{"pending"}, waiting: 3,
			want: "1 templates, 5 queries, 0 held, 0 degraded, 1 pending, waiting for 3 of 5 queries"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := renderer.Status{Queries: 5, Waiting: tc.waiting}
			for _, s := range tc.states {
				st.Templates = append(st.Templates, renderer.TemplateStatus{State: s})
			}
			if got := statusLine(st, 5); got != tc.want {
				t.Errorf("statusLine = %q, want %q", got, tc.want)
			}
		})
	}
}
