package main

import (
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
