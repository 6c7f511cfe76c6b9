package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestConsulTemplateVariants: syntax consul-template v0.41.1 accepts, and
// how it merges files, read as its config package does (loaded directly
// and through `ctpl convert`, which must agree).
func TestConsulTemplateVariants(t *testing.T) {
	tests := []struct {
		name  string
		files []string // loaded as a directory, in this order
		check func(t *testing.T, cfg Config)
	}{
		{name: "consul as a string, the old form", files: []string{`consul = "10.0.0.1:8500"` + "\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "address", cfg.Consul.Address, "10.0.0.1:8500") }},
		{name: "JSON template as an object", files: []string{`{"template": {"source": "a.tmpl", "destination": "/tmp/a"}}`},
			check: func(t *testing.T, cfg Config) { equal(t, "destination", cfg.Templates[0].Destination, "/tmp/a") }},
		{name: "a one-string list runs through sh -c",
			files: []string{"template {\n  source = \"a\"\n  destination = \"/tmp/a\"\n  command = [\"nginx -s reload\"]\n}\n"},
			check: func(t *testing.T, cfg Config) {
				equal(t, "command", argvOf(t, cfg, 0), sh("nginx -s reload"))
			}},
		{name: "a command string is split at commas",
			files: []string{"template {\n  source = \"a\"\n  destination = \"/tmp/a\"\n  command = \"/usr/bin/reload,nginx\"\n}\n"},
			check: func(t *testing.T, cfg Config) {
				equal(t, "command", argvOf(t, cfg, 0), []string{"/usr/bin/reload", "nginx"})
				equal(t, "warned", len(cfg.Warnings) == 1 && strings.Contains(cfg.Warnings[0], ":4: template.command: consul-template splits"), true)
			}},
		{name: "wait with spaces", files: []string{`wait = " 2s : 5s "` + "\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "wait", cfg.Wait, WaitConfig{Min: 2 * s1, Max: 5 * s1}) }},
		{name: "wait min alone", files: []string{"wait {\n  min = \"3s\"\n}\ntemplate {\n  source = \"a\"\n  destination = \"/tmp/a\"\n}\n"},
			check: func(t *testing.T, cfg Config) {
				ts, _ := templateSettings(cfg, cfg.Templates[0])
				equal(t, "wait", [2]time.Duration{ts.Wait.Min, ts.Wait.Max}, waitOf(3*s1, 12*s1))
			}},
		{name: "duration 0 as a number", files: []string{"max_stale = 0\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "max_stale", cfg.MaxStale, time.Duration(0)) }},
		{name: "a repeated block: the last wins whole", files: []string{"consul {\n  address = \"a:1\"\n  token = \"t\"\n}\nconsul {\n  address = \"b:2\"\n}\n"},
			check: func(t *testing.T, cfg Config) {
				equal(t, "address", cfg.Consul.Address, "b:2")
				equal(t, "token", cfg.Consul.Token, "")
			}},
		{name: "perms as an octal string and a decimal number",
			files: []string{"template {\n  source = \"a\"\n  destination = \"/tmp/a\"\n  perms = \"640\"\n}\ntemplate {\n  source = \"b\"\n  destination = \"/tmp/b\"\n  perms = 420\n}\n"},
			check: func(t *testing.T, cfg Config) {
				equal(t, "perms", []FileMode{cfg.Templates[0].Perms, cfg.Templates[1].Perms}, []FileMode{0o640, 0o644})
			}},
		{name: "a later exec block keeps the earlier kill_signal",
			files: []string{"exec {\n  command = \"app\"\n  kill_signal = \"SIGTERM\"\n}\n", "exec {\n  splay = \"5s\"\n}\n"},
			check: func(t *testing.T, cfg Config) {
				equal(t, "kill_signal", cfg.Exec.KillSignal, "SIGTERM")
				equal(t, "splay", cfg.Exec.Splay, 5*s1)
			}},
		{name: "whitelist and allowlist in one block both apply",
			files: []string{"exec {\n  command = \"app\"\n  env {\n    whitelist = [\"HOME\"]\n    allowlist = [\"PATH\"]\n    blacklist = [\"AWS_*\"]\n    denylist = [\"VAULT_*\"]\n  }\n}\n"},
			check: func(t *testing.T, cfg Config) {
				equal(t, "allowlist", cfg.Exec.Env.Allowlist, []string{"HOME", "PATH"})
				equal(t, "denylist", cfg.Exec.Env.Denylist, []string{"AWS_*", "VAULT_*"})
			}},
		{name: "env lists add up across files",
			files: []string{"exec {\n  command = \"app\"\n  env {\n    custom = [\"A=1\"]\n  }\n}\n", "exec {\n  env {\n    custom = [\"B=2\"]\n  }\n}\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "custom", cfg.Exec.Env.Custom, []string{"A=1", "B=2"}) }},
		{name: "exec disabled", files: []string{"exec {\n  enabled = false\n  command = \"app\"\n}\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "exec", cfg.Exec == nil, true) }},
		{name: "a template's exec disabled",
			files: []string{"template {\n  source = \"a\"\n  destination = \"/tmp/a\"\n  exec {\n    enabled = false\n    command = \"x y\"\n  }\n}\n"},
			check: func(t *testing.T, cfg Config) {}},
		{name: "log level in capitals", files: []string{`log_level = "INFO"` + "\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "log level", CheckLogLevel(cfg.LogLevel), nil) }},
		{name: "JSON nested blocks", files: []string{`{"consul": {"retry": {"backoff": "1s"}}, "exec": [{"command": "app"}]}`},
			check: func(t *testing.T, cfg Config) { equal(t, "backoff", cfg.Consul.Retry.Backoff, s1) }},
		{name: "default delimiters, one overridden",
			files: []string{"default_delimiters {\n  left = \"<<\"\n  right = \">>\"\n}\ntemplate {\n  source = \"a\"\n  destination = \"/tmp/a\"\n  left_delimiter = \"[[\"\n}\n"},
			check: func(t *testing.T, cfg Config) {}},
		{name: "global wait and a template's min alone",
			files: []string{"wait = \"5s\"\ntemplate {\n  source = \"a\"\n  destination = \"/tmp/a\"\n  wait {\n    min = \"1s\"\n  }\n}\ntemplate {\n  source = \"b\"\n  destination = \"/tmp/b\"\n}\n"},
			check: func(t *testing.T, cfg Config) {}},
		{name: "a later file's exec command replaces",
			files: []string{"exec {\n  command = [\"app\", \"-x\"]\n}\n", "exec {\n  command = \"other -y\"\n}\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "command", cfg.Exec.Command.Shell, "other -y") }},
		{name: "vault disabled is nothing", files: []string{"vault {\n  enabled = false\n  address = \"https://vault:8200\"\n}\n"},
			check: func(t *testing.T, cfg Config) { equal(t, "warnings", len(cfg.Warnings), 0) }},
		{name: "uid and gid", files: []string{"template {\n  source = \"a\"\n  destination = \"/tmp/a\"\n  uid = 0\n  gid = 0\n}\n"},
			check: func(t *testing.T, cfg Config) {
				equal(t, "owner", cfg.Templates[0].User+":"+cfg.Templates[0].Group, "0:0")
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, text := range tc.files {
				ext := ".hcl"
				if strings.HasPrefix(text, "{") {
					ext = ".json"
				}
				if err := os.WriteFile(filepath.Join(dir, string(rune('a'+i))+ext), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cfg := Default()
			err := LoadFile(&cfg, dir)
			agreesWithConsulTemplate(t, dir, cfg, err)
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, cfg)
			conv, err := Convert(dir)
			if err != nil || len(conv.Errors) > 0 {
				t.Fatalf("convert: %v %q", err, conv.Errors)
			}
			converted, _, err := loadText(t, "ctpl.yaml", string(conv.YAML))
			if err != nil {
				t.Fatalf("%v\n%s", err, conv.YAML)
			}
			converted.Warnings = cfg.Warnings
			t.Run("converted", func(t *testing.T) { tc.check(t, converted) })
			if !slices.Equal(conv.Warnings, cfg.Warnings) {
				t.Errorf("convert warned %q, loading %q", conv.Warnings, cfg.Warnings)
			}
		})
	}
}

func argvOf(t *testing.T, cfg Config, i int) []string {
	t.Helper()
	ts, err := templateSettings(cfg, cfg.Templates[i])
	if err != nil {
		t.Fatal(err)
	}
	return argv(ts.Command)
}
