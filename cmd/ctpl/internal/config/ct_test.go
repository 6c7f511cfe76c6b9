package config

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestLoadConsulTemplateSample loads issue 17's sample HCL config as an
// operator would pass it: it runs, with one warning per key ctpl ignores,
// and means what it meant to consul-template.
func TestLoadConsulTemplateSample(t *testing.T) {
	cfg := Default()
	if err := LoadFile(&cfg, "testdata/ct/sample.hcl"); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	wantWarnings := []string{
		"testdata/ct/sample.hcl:10: consul.retry.attempts: ignored: ctpl retries forever",
		"testdata/ct/sample.hcl:23: deduplicate: not supported: ctpl has no de-duplication mode",
		"testdata/ct/sample.hcl:28: syslog: ignored: ctpl logs to stderr only",
	}
	if len(cfg.Warnings) != len(wantWarnings) {
		t.Fatalf("warnings:\n%s", strings.Join(cfg.Warnings, "\n"))
	}
	for i, w := range wantWarnings {
		if !strings.HasPrefix(cfg.Warnings[i], w) {
			t.Errorf("warning %d = %q, want it to start %q", i, cfg.Warnings[i], w)
		}
	}
	a, b := cfg.Templates[0], cfg.Templates[1]
	e := cfg.Exec
	checks := []struct {
		name      string
		got, want any
	}{
		{"consul address", cfg.Consul.Address, "127.0.0.1:8500"},
		{"token file", cfg.Consul.TokenFile, "/etc/consul-template/token"},
		{"retry backoff", cfg.Consul.Retry.MaxBackoff, time.Minute},
		{"ssl", cfg.Consul.Options().TLS.Enable && cfg.Consul.Options().TLS.CAFile == "/etc/consul.d/ca.pem", true},
		{"templates", len(cfg.Templates), 2},
		{"wait 2s:10s", *a.Wait, WaitConfig{Min: 2 * time.Second, Max: 10 * time.Second}},
		{"perms", a.Perms, FileMode(0o644)},
		{"template exec command", a.Command.Shell, "nginx -s reload"},
		{"template exec timeout", a.CommandTimeout, 30 * time.Second},
		{"delimiters", b.LeftDelimiter + b.RightDelimiter, "[[]]"},
		{"exec command", strings.Join(e.Command.Args, " "), "/usr/bin/app -config /etc/app/app.conf"},
		{"exec stops with consul-template's signal", e.KillSignal, "SIGINT"},
		{"exec exit ends the run, as in consul-template", e.OnExit, "exit"},
		{"exec env", strings.Join(e.Env.Custom, ",") + "|" + strings.Join(e.Env.Denylist, ","), "APP_ENV=production|CONSUL_*"},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestConvertRoundTrip: for consul-template configs that together use
// every key consul-template documents, the YAML `ctpl convert` writes loads
// to the same settings as loading the originals directly.
func TestConvertRoundTrip(t *testing.T) {
	used := map[string]bool{}
	for _, src := range []string{"all.hcl", "all.json", "dir"} {
		t.Run(src, func(t *testing.T) {
			path := filepath.Join("testdata/ct/roundtrip", src)
			direct := Default()
			if err := LoadFile(&direct, path); err != nil {
				t.Fatal(err)
			}
			roundTrip(t, path, direct)
			files, _ := configFiles(path)
			for _, f := range files {
				b, _ := os.ReadFile(f)
				root, err := parseCT(b)
				if err != nil {
					t.Fatal(err)
				}
				collectPaths(root, "", used)
			}
		})
	}
	for _, k := range ctKeys {
		if !used[k.ct] && !refused[k.ct] {
			t.Errorf("no round-trip config uses %s", k.ct)
		}
	}
}

// effective is cfg without what differs by nature between two sources of
// the same settings: where templates were configured, and warnings.
func effective(cfg Config) Config {
	cfg.Warnings = nil
	cfg.Templates = slices.Clone(cfg.Templates)
	for i := range cfg.Templates {
		cfg.Templates[i].place = templatePlace{}
	}
	return cfg
}

// collectPaths adds every key path of n (template keys as template.KEY).
func collectPaths(n *ctNode, prefix string, used map[string]bool) {
	for _, f := range n.fields {
		p := prefix + f.key
		used[p] = true
		k := ctKeyIndex[p]
		if k == nil || (k.kind != kBlock && k.kind != kWait) {
			continue
		}
		blocks := []*ctNode{f.val}
		if f.val.isList {
			blocks = f.val.list
		}
		for _, b := range blocks {
			collectPaths(b, p+".", used)
		}
	}
}

// refused are the keys whose only values in the round-trip configs would
// be refused; ctErrors covers them.
var refused = map[string]bool{}

// TestConsulTemplateKeysRefused: keys whose meaning ctpl cannot honour are
// errors naming the file, line and key path, one per line, and saying what
// to do instead.
func TestConsulTemplateKeysRefused(t *testing.T) {
	tests := []struct {
		name, hcl, want string
	}{
		{name: "auth", hcl: "consul {\n  auth {\n    username = \"u\"\n  }\n}\n",
			want: "c.hcl:2: consul.auth: not supported: set CONSUL_HTTP_AUTH"},
		{name: "namespace", hcl: "consul {\n  namespace = \"team\"\n}\n", want: "c.hcl:2: consul.namespace: not supported: set CONSUL_NAMESPACE"},
		{name: "ca bytes", hcl: "consul {\n  ssl {\n    ca_cert_bytes = \"PEM\"\n  }\n}\n", want: "c.hcl:3: consul.ssl.ca_cert_bytes: not supported"},
		{name: "reload signal", hcl: "reload_signal = \"SIGUSR1\"\n", want: "c.hcl:1: reload_signal: not supported: ctpl reloads on SIGHUP only"},
		{name: "kill signal", hcl: "kill_signal = \"SIGQUIT\"\n", want: "c.hcl:1: kill_signal: not supported: ctpl stops on SIGINT and SIGTERM only"},
		{name: "once", hcl: "once = true\n", want: "c.hcl:1: once: not a config key in ctpl: pass -once"},
		{name: "exec timeout", hcl: "exec {\n  command = \"app\"\n  timeout = \"5m\"\n}\n", want: "c.hcl:3: exec.timeout: not supported"},
		{name: "template exec env", hcl: "template {\n  exec {\n    env {\n      pristine = true\n    }\n  }\n}\n",
			want: "c.hcl:3: template.exec.env: not supported: template commands get ctpl's environment"},
		{name: "misspelt key", hcl: "consul {\n  adress = \"x\"\n}\n", want: "c.hcl:2: consul.adress: not a consul-template key (did you mean address?)"},
		{name: "bad number", hcl: "consul {\n  retry {\n    attempts = \"many\"\n  }\n}\n", want: "c.hcl:3: consul.retry.attempts: want a whole number"},
		{name: "bad duration", hcl: "max_stale = \"soon\"\n", want: `c.hcl:1: max_stale: "soon": want a duration such as 5s`},
		{name: "bad wait", hcl: "wait = \"9s:2s\"\n", want: `c.hcl:1: wait: "9s:2s": max is below min`},
		{name: "syntax", hcl: "consul {\n  address = \n", want: "c.hcl:"},
		{name: "two problems, two lines", hcl: "once = true\nkill_signal = \"SIGQUIT\"\n", want: "c.hcl:1: once: not a config key in ctpl: pass -once on the command line; see docs/migration.md#once\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, path, err := loadText(t, "c.hcl", tc.hcl)
			if err == nil || !strings.Contains(err.Error(), strings.ReplaceAll(tc.want, "c.hcl", path)) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			assertOperatorWords(t, err.Error())
		})
	}
}

var goWords = regexp.MustCompile(`!!|\bmain\.|\bconfig\.[A-Z]|time\.Duration|\[\]string|\bstruct\b|\*ast\.|unmarshal`)

// assertOperatorWords fails on a message naming a Go type or a YAML tag.
func assertOperatorWords(t *testing.T, msg string) {
	t.Helper()
	if m := goWords.FindString(msg); m != "" {
		t.Errorf("the message shows %q, a word of the code, not of the operator:\n%s", m, msg)
	}
}

// TestYAMLErrorsInOperatorWords: YAML configs that are wrong are told by
// file, line and key path, one problem per line, with a hint.
func TestYAMLErrorsInOperatorWords(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // each a line of the error, after the file name
	}{
		{name: "typo", yaml: "consul:\n  adress: x\n", want: []string{":2: consul.adress: not a ctpl key (did you mean address?)"}},
		{name: "consul-template's name", yaml: "template:\n  - source: a\n",
			want: []string{":1: template: not a ctpl key: template is consul-template's name; ctpl's is templates"}},
		{name: "consul-template key ctpl lacks", yaml: "deduplicate:\n  enabled: true\n",
			want: []string{":1: deduplicate: not a ctpl key (consul-template's; remove it): ctpl has no de-duplication mode"}},
		{name: "types, one per line", yaml: "consul:\n  retry:\n    backoff: soon\n  max_conns: many\nlog_level: [a]\ntemplates:\n  - source: a\n    destination: b\n    backup: maybe\n",
			want: []string{
				`:3: consul.retry.backoff: "soon": want a duration such as 5s or 1m30s`,
				`:4: consul.max_conns: "many": want a whole number`,
				`:5: log_level: a list: want a string`,
				`:9: templates[1].backup: "maybe": want true or false`,
			}},
		{name: "wait", yaml: "wait: soon\n", want: []string{`:1: wait: "soon": time: invalid duration "soon": want min:max such as 2s:10s, or min and max keys`}},
		{name: "templates not a list", yaml: "templates:\n  source: a\n", want: []string{":2: templates: want a list (lines starting with -)"}},
		{name: "HCL in a YAML file", yaml: "consul {\n  address = \"x\"\n}\n",
			want: []string{": this is consul-template's HCL, not YAML: name the file .hcl to load it as consul-template's, or convert it: ctpl convert"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, path, err := loadText(t, "c.yaml", tc.yaml)
			if err == nil {
				t.Fatal("no error")
			}
			lines := strings.Split(err.Error(), "\n")
			for _, w := range tc.want {
				if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, path+w) }) {
					t.Errorf("no line with %q in:\n%s", path+w, err)
				}
			}
			if len(tc.want) > 1 && len(lines) != len(tc.want) {
				t.Errorf("%d lines, want one per problem (%d):\n%s", len(lines), len(tc.want), err)
			}
			assertOperatorWords(t, err.Error())
		})
	}
}

// TestWaitForms: wait in YAML is min:max, min alone, or keys, as in
// consul-template's configs and -wait.
func TestWaitForms(t *testing.T) {
	tests := []struct {
		yaml string
		want WaitConfig
	}{
		{yaml: `wait: "2s:10s"`, want: WaitConfig{Min: 2 * time.Second, Max: 10 * time.Second}},
		{yaml: `wait: 2s:10s`, want: WaitConfig{Min: 2 * time.Second, Max: 10 * time.Second}},
		{yaml: `wait: 3s`, want: WaitConfig{Min: 3 * time.Second, Max: 12 * time.Second}},
		{yaml: `wait: {min: 1s, max: 4s}`, want: WaitConfig{Min: time.Second, Max: 4 * time.Second}},
	}
	for _, tc := range tests {
		cfg := Default()
		if err := decode(&cfg, "c.yaml", []byte(tc.yaml)); err != nil || cfg.Wait != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.yaml, cfg.Wait, err, tc.want)
		}
	}
}

// TestFormatDetection: which files load as consul-template's.
func TestFormatDetection(t *testing.T) {
	tests := []struct {
		name, content string
		ct            bool
	}{
		{name: "a.hcl", content: "consul {}\n", ct: true},
		{name: "a.conf", content: "# comment\nlog_level = \"info\"\n", ct: true},
		{name: "a.conf", content: "# comment\nlog_level: info\n", ct: false},
		{name: "a.json", content: `{"template": [{"source": "a"}]}`, ct: true},
		{name: "a.json", content: `{"templates": [{"source": "a"}]}`, ct: false},
		{name: "a.yaml", content: "consul {\n}\n", ct: false},
	}
	for _, tc := range tests {
		if got := isConsulTemplate(tc.name, []byte(tc.content)); got != tc.ct {
			t.Errorf("%s %q: consul-template's = %v, want %v", tc.name, tc.content, got, tc.ct)
		}
	}
}

// TestMigrationDocCoversTheKeys holds docs/migration.md to the key table:
// every consul-template key is in its table (blocks through their keys),
// and every anchor a message
// points at exists.
func TestMigrationDocCoversTheKeys(t *testing.T) {
	b, err := os.ReadFile("../../../../docs/migration.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, k := range ctKeys {
		last := k.ct[strings.LastIndex(k.ct, ".")+1:]
		if k.kind != kBlock && !strings.Contains(doc, "`"+k.ct+"`") && !strings.Contains(doc, "`."+last+"`") {
			t.Errorf("docs/migration.md does not list %s", k.ct)
		}
		if k.drop == nil {
			continue
		}
		_, msg := k.drop(&ctNode{scalar: "x"})
		for _, m := range regexp.MustCompile(`docs/migration\.md#([a-z-]+)`).FindAllStringSubmatch(msg, -1) {
			if !strings.Contains(doc, `<a id="`+m[1]+`"></a>`) {
				t.Errorf("%s points at docs/migration.md#%s, which does not exist", k.ct, m[1])
			}
		}
	}
}

// loadText writes text to a file called name and loads it over Default().
func loadText(t *testing.T, name, text string) (Config, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Default()
	err := LoadFile(&cfg, path)
	return cfg, path, err
}
