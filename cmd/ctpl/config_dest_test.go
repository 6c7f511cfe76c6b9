package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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

// commands_pass_consul_token gives checks and reloads an environment with
// the token; without it they get none (renderer's default).
func TestCommandsPassConsulToken(t *testing.T) {
	t.Setenv("CONSUL_HTTP_TOKEN", "s3cret")
	for _, pass := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.CommandsPassConsulToken = pass
		tpl, err := buildTemplate(cfg, TemplateConfig{Contents: "x", Destination: "/tmp/x", Command: CommandConfig{Shell: "reload"},
			TemplateSafetyConfig: TemplateSafetyConfig{Check: CommandConfig{Shell: "check"}}})
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range [][]string{tpl.Command.Env, tpl.Check.Env} {
			if has := slices.Contains(env, "CONSUL_HTTP_TOKEN=s3cret"); has != pass {
				t.Errorf("commands_pass_consul_token %v: the command's environment has the token: %v", pass, has)
			}
		}
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
