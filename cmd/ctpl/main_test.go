package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/cmd/ctpl/internal/config"
	"github.com/ctpl/ctpl/internal/testkit"
)

func TestConfigFilesAndFlags(t *testing.T) {
	dir := t.TempDir()
	first := writeFile(t, filepath.Join(dir, "a.yaml"), `
consul: {address: 127.0.0.1:1, token_file: /etc/ctpl/token}
wait: {min: 2s, max: 10s}
log_level: debug
templates:
  - source: /etc/ctpl/a.tmpl
    destination: /tmp/a.conf
    command: "nginx -s reload"
    command_timeout: 5s
    perms: 0600
    backup: true
    create_dest_dirs: false
    wait: {min: 1s}
`)
	second := writeFile(t, filepath.Join(dir, "b.yaml"), `
consul: {address: 127.0.0.1:2}
templates:
  - contents: "{{ key \"x\" }}"
    destination: /tmp/b.conf
    command: [systemctl, reload, haproxy]
    perms: "0640"
`)
	fs, fl := newFlagSet(io.Discard)
	err := fs.Parse([]string{"-config", first, "-config", second, "-log-level", "warn",
		"-template", "in.tmpl:out.conf:echo hi", "-wait", "3s"})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(fs, fl)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"later file wins", cfg.Consul.Address, "127.0.0.1:2"},
		{"earlier key kept", cfg.Consul.TokenFile, "/etc/ctpl/token"},
		{"flag wins over file", cfg.LogLevel, "warn"},
		{"-wait max defaults to 4 × min", cfg.Wait, config.WaitConfig{Min: 3 * time.Second, Max: 12 * time.Second}},
		{"templates from every file and flag", len(cfg.Templates), 3},
		{"string command", cfg.Templates[0].Command.Shell, "nginx -s reload"},
		{"list command", strings.Join(cfg.Templates[1].Command.Args, " "), "systemctl reload haproxy"},
		{"octal perms unquoted", cfg.Templates[0].Perms, config.FileMode(0o600)},
		{"octal perms quoted", cfg.Templates[1].Perms, config.FileMode(0o640)},
		{"flag template command", cfg.Templates[2].Command.Shell, "echo hi"},
		{"create_dest_dirs false", *cfg.Templates[0].CreateDestDirs, false},
		{"per-template wait", cfg.Templates[0].Wait.Min, time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{name: "unknown key", yaml: "consul:\n  adress: x\n", want: "b.yaml:2: consul.adress: not a ctpl key (did you mean address?)"},
		{name: "bad perms", yaml: "templates:\n  - {source: a, destination: b, perms: 999}\n", want: "b.yaml:2: templates[1].perms: invalid file mode \"999\""},
		{name: "no destination", yaml: "templates:\n  - {source: a}\n", want: "template 1: needs a destination"},
		{name: "both command forms impossible", yaml: "templates:\n  - {source: a, destination: b, command: {x: 1}}\n", want: "command: want a string or a list"},
		{name: "bad yaml", yaml: "consul: [\n", want: "b.yaml:"},
		{name: "no templates", yaml: "log_level: info\n", want: "no templates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, filepath.Join(dir, "b.yaml"), tc.yaml)
			var stderr syncBuffer
			code := run(t.Context(), []string{"-config", path}, io.Discard, &stderr)
			if code != exitConfig || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d stderr %q; want %d and %q", code, stderr.String(), exitConfig, tc.want)
			}
		})
	}
}

func TestTemplateSyntaxErrorTouchesNothing(t *testing.T) {
	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "bad.tmpl"), "upstream {\n  {{ range service \"web\" }\n}\n")
	out := filepath.Join(dir, "out.conf")
	writeFile(t, out, "old")
	var stderr syncBuffer
	code := run(t.Context(), []string{"-once", "-template", tmpl + ":" + out}, io.Discard, &stderr)
	if code == 0 || !strings.Contains(stderr.String(), tmpl+":2:") {
		t.Fatalf("exit %d stderr %q; want non-zero naming %s:2:col", code, stderr.String(), tmpl)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Fatalf("destination changed to %q", b)
	}
}

func TestFlagErrorsAndVersion(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{name: "unknown flag", args: []string{"-nope"}, code: exitFlags},
		{name: "bad template flag", args: []string{"-template", "only-in"}, code: exitFlags},
		{name: "bad wait", args: []string{"-template", "a:b", "-wait", "soon"}, code: exitFlags},
		{name: "bad log level", args: []string{"-template", "a:b", "-log-level", "loud"}, code: exitFlags},
		{name: "bad log format", args: []string{"-template", "a:b", "-log-format", "xml"}, code: exitFlags},
		{name: "bad once timeout", args: []string{"-template", "a:b", "-once", "-once-timeout", "0s"}, code: exitFlags},
		{name: "metrics address with a host name, daemon", args: []string{"-template", "a:b", "-metrics-addr", "metrics.example:9"}, code: exitFlags},
		{name: "metrics address with a host name, once", args: []string{"-template", "a:b", "-once", "-metrics-addr", "metrics.example:9"}, code: exitFlags},
		{name: "metrics address without a port, once", args: []string{"-template", "a:b", "-once", "-metrics-addr", "127.0.0.1"}, code: exitFlags},
		{name: "version", args: []string{"-version"}, code: 0, out: "ctpl "},
		{name: "help", args: []string{"-h"}, code: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout syncBuffer
			if code := run(t.Context(), tc.args, &stdout, io.Discard); code != tc.code || !strings.Contains(stdout.String(), tc.out) {
				t.Fatalf("exit %d out %q, want %d %q", code, stdout.String(), tc.code, tc.out)
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	testkit.RemoveBuilds()
	os.Exit(code)
}
