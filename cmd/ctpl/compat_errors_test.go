package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestCompatErrors renders templates ctpl must refuse: ctpl fails, writes
// nothing and names the template file, line and column. consul-template
// fails on them too, except where ctpl is deliberately stricter (ctOK; see
// testdata/compat/DIFFERENCES.md).
func TestCompatErrors(t *testing.T) {
	ctBin := consulTemplateBinary(t)
	agent := consultest.Start(t)
	agent.RegisterService(t, consultest.Service{Node: "node-a", Address: "10.0.1.1", ID: "web-1", Name: "web", Port: 80})
	agent.PutKV(t, "app/name", "shop")
	dir := t.TempDir()
	sandbox := filepath.Join(dir, "sandbox")
	if err := os.Mkdir(sandbox, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "outside.txt"), "secret\n")
	if err := os.Symlink(filepath.Join(dir, "outside.txt"), filepath.Join(sandbox, "link.txt")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		text string
		pos  string // "line:col" ctpl's error names after the file
		says string // what else it must say (the function and its query, the reason)
		ct   string // consul-template's template options (HCL)
		ctpl string // ctpl's template options (YAML)
		ctOK bool   // consul-template renders it: a deliberate difference
	}{
		{name: "unknown function", text: "ok\n{{ nope }}\n", pos: "2:4", says: `function "nope" not defined`},
		{name: "unclosed action", text: "{{ range service \"web\" }}\n{{ .Port }}\n", pos: "3:1", says: "unexpected EOF"},
		{name: "bad datacenter", text: "x\n  {{ service \"web@\" }}", pos: "2:5", says: `service "web@": invalid query`},
		{name: "bad nodes query", text: "{{ range nodes \"not-a-dc\" }}{{ end }}", pos: "1:9", says: `nodes "not-a-dc": invalid query`},
		{name: "bad kv prefix", text: "{{ key \"app/name@\" }}", pos: "1:3", says: `key "app/name@": invalid query`},
		{name: "field of a record that has none", text: "{{ range service \"web\" }}\n{{ .NoSuchField }}{{ end }}", pos: "2:3", says: "NoSuchField"},
		{name: "wrong argument type", text: "{{ add \"x\" 1 }}", pos: "1:3", says: `add "x" 1`},
		{name: "bad regexp", text: "{{ regexMatch \"(\" \"a\" }}", pos: "1:3", says: "error parsing regexp"},
		{name: "vault secret", text: "a\n{{ with secret \"secret/x\" }}{{ .Data }}{{ end }}", pos: "2:9", says: "Vault function"},
		{
			name: "denylisted function", text: "{{ key \"app/name\" }}\n{{ sprig_upper \"x\" }}", pos: "2:4", says: "function_denylist",
			ct: `function_denylist = ["sprig_*"]`, ctpl: `function_denylist: ["sprig_*"]`,
		},
		{
			name: "file outside the sandbox", text: fmt.Sprintf("{{ file %q }}", filepath.Join(dir, "outside.txt")), pos: "1:3", says: "file ",
			ct: fmt.Sprintf("sandbox_path = %q", sandbox), ctpl: fmt.Sprintf("sandbox_path: %q", sandbox),
		},
		{
			name: "symlink out of the sandbox", text: fmt.Sprintf("{{ file %q }}", filepath.Join(sandbox, "link.txt")), pos: "1:3", says: "link.txt",
			ct: fmt.Sprintf("sandbox_path = %q", sandbox), ctpl: fmt.Sprintf("sandbox_path: %q", sandbox),
		},
		{name: "plugin without allow_functions", text: "{{ plugin \"echo\" \"hi\" }}", pos: "1:4", says: "allow_functions", ctOK: true},
		{
			name: "writeToFile without allow_functions", pos: "1:10", says: "allow_functions", ctOK: true,
			text: fmt.Sprintf("{{ \"x\" | writeToFile %q \"\" \"\" \"0644\" }}", filepath.Join(dir, "written.txt")),
		},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := writeFile(t, filepath.Join(dir, fmt.Sprintf("bad%d.tmpl", i)), tc.text)
			// Each ctpl writes to a directory of its own: one holds a
			// destination directory's lock while it runs.
			ctOut, ctplOut := filepath.Join(dir, fmt.Sprintf("ct%d.out", i)), filepath.Join(t.TempDir(), fmt.Sprintf("ctpl%d.out", i))
			ctLog, ctErr := renderOnceCT(t, ctBin, agent, src, ctOut, tc.ct)
			switch {
			case tc.ctOK && ctErr != nil:
				t.Errorf("consul-template failed (%v), yet DIFFERENCES.md says it renders this:\n%s", ctErr, ctLog)
			case !tc.ctOK && ctErr == nil:
				t.Errorf("consul-template rendered this:\n%s", ctLog)
			}

			var stdout, stderr syncBuffer
			cfg := writeFile(t, filepath.Join(dir, fmt.Sprintf("ctpl%d.yaml", i)), fmt.Sprintf(
				"templates:\n  - source: %q\n    destination: %q\n    %s\n", src, ctplOut, tc.ctpl))
			code := run(t.Context(), []string{"-config", cfg, "-consul-addr", agent.Addr(), "-once", "-once-timeout", "10s"},
				&stdout, &stderr)
			if code == exitOK {
				t.Fatalf("ctpl succeeded; log:\n%s", stderr.String())
			}
			if _, err := os.Stat(ctplOut); err == nil {
				t.Errorf("ctpl wrote %s", ctplOut)
			}
			if _, err := os.Stat(ctOut); err == nil && !tc.ctOK {
				t.Errorf("consul-template wrote %s", ctOut)
			}
			where := regexp.MustCompile(regexp.QuoteMeta(src+":"+tc.pos) + `(\D|$)`)
			log := strings.ReplaceAll(stderr.String(), `\"`, `"`) // the text log quotes its values
			if !where.MatchString(log) || !strings.Contains(log, tc.says) {
				t.Errorf("ctpl's error does not name %s:%s and say %q:\n%s", src, tc.pos, tc.says, stderr.String())
			}
		})
	}
}

// renderOnceCT renders one template with consul-template -once and the
// given template options, stopping it with SIGINT after 20 s.
func renderOnceCT(t *testing.T, bin string, agent *consultest.Agent, src, out, opts string) (string, error) {
	t.Helper()
	// Vault gets an address that refuses connections and no retries, so a
	// Vault function fails at once instead of retrying.
	cfg := writeFile(t, out+".hcl", fmt.Sprintf("consul {\n  address = %q\n}\n"+
		"vault {\n  address = \"http://127.0.0.1:9\"\n  retry {\n    enabled = false\n  }\n}\n"+
		"template {\n  source = %q\n  destination = %q\n  %s\n}\n", agent.Addr(), src, out, opts))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-once", "-config", cfg)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = append(os.Environ(), "VAULT_MAX_RETRIES=0") // the Vault client's own retries take 8 s
	log, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Errorf("consul-template did not finish within 20 s:\n%s", log)
	}
	return strings.TrimSpace(string(log)), err
}
