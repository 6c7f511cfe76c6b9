package config

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// consul-template v0.41.1 itself is the oracle of what its configuration
// means: run with -log-level=debug it logs the configuration it finalized
// ("final config: {…}") before it reads a template, and a configuration
// it refuses is an error before that line.

var ctBinary = sync.OnceValue(func() string {
	p, err := filepath.Abs("../../../../bin/consul-template")
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		return ""
	}
	return p
})

// ctFinal is the part of consul-template's finalized configuration ctpl
// must agree with.
type ctFinal struct {
	Consul struct {
		Address, Token string
		SSL            struct{ Enabled, Verify bool }
	}
	Exec struct {
		Command    []string
		Enabled    bool
		KillSignal int
		Env        struct{ Custom, Allowlist, Denylist []string }
	}
	PidFile       string
	Wait          ctWait
	DefaultDelims struct{ Left, Right *string }
	Templates     []struct {
		Destination, Contents, LeftDelim, RightDelim string
		Backup, CreateDestDirs, ErrMissingKey        bool
		Perms                                        os.FileMode
		Wait                                         ctWait
		Exec                                         struct {
			Command []string
			Timeout time.Duration
		}
	}
}

type ctWait struct {
	Enabled  bool
	Min, Max time.Duration
}

// consulTemplateSays runs consul-template on path and returns its final
// configuration, or nil when it refused the configuration. ok is false
// when there is no consul-template binary (CTPL_REQUIRE_CONSUL=1 makes that
// a failure).
func consulTemplateSays(t *testing.T, path string) (final *ctFinal, ok bool) {
	t.Helper()
	bin := ctBinary()
	if bin == "" {
		if os.Getenv(consultest.EnvRequire) == "1" {
			t.Fatal("no bin/consul-template: run `make consul-template`")
		}
		t.Log("no bin/consul-template: not compared with consul-template")
		return nil, false
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	// Not -once, which turns the global wait off; -dry writes nothing. No
	// syslog socket or Vault certificate here: those are not the point.
	cmd := exec.CommandContext(ctx, bin, "-config", path, "-dry", "-log-level=debug", "-syslog=false", "-vault-ssl=false")
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	var out []string
	for sc.Scan() {
		_, js, found := strings.Cut(sc.Text(), "(runner) final config: ")
		if !found {
			out = append(out, sc.Text())
			continue
		}
		final = &ctFinal{}
		if err := json.Unmarshal([]byte(js), final); err != nil {
			t.Fatalf("consul-template's final config: %v", err)
		}
		return final, true
	}
	t.Logf("consul-template refused it:\n%s", strings.Join(out, "\n"))
	return nil, true
}

// agreesWithConsulTemplate checks cfg, what ctpl loaded from path, against
// what consul-template made of path: refused by both, or the same templates
// and the same settings ctpl shares.
func agreesWithConsulTemplate(t *testing.T, path string, cfg Config, loadErr error) {
	t.Helper()
	ct, ok := consulTemplateSays(t, path)
	switch {
	case !ok:
		return
	case ct == nil || loadErr != nil:
		if (ct == nil) != (loadErr != nil) {
			t.Fatalf("consul-template refused it: %v; ctpl: %v", ct == nil, loadErr)
		}
		return
	}
	equal(t, "address", cfg.Consul.Address, ct.Consul.Address)
	equal(t, "token", cfg.Consul.Token, ct.Consul.Token)
	tls := cfg.Consul.Options().TLS
	equal(t, "tls", [2]bool{tls.Enable, !tls.InsecureSkipVerify}, [2]bool{ct.Consul.SSL.Enabled, ct.Consul.SSL.Enabled && ct.Consul.SSL.Verify || !ct.Consul.SSL.Enabled})
	equal(t, "pid_file", cfg.PidFile, ct.PidFile)
	equal(t, "exec", cfg.Exec != nil, ct.Exec.Enabled)
	if cfg.Exec != nil && ct.Exec.Enabled {
		sup := cfg.Exec.SupervisorOptions(nil)
		equal(t, "exec command", words(sup.Args), words(ctArgv(ct.Exec.Command)))
		equal(t, "exec kill signal", int(sup.KillSignal), ct.Exec.KillSignal)
		equal(t, "exec env", [][]string{nonNil(cfg.Exec.Env.Custom), nonNil(cfg.Exec.Env.Allowlist), nonNil(cfg.Exec.Env.Denylist)},
			[][]string{nonNil(ct.Exec.Env.Custom), nonNil(ct.Exec.Env.Allowlist), nonNil(ct.Exec.Env.Denylist)})
	}
	if len(cfg.Templates) != len(ct.Templates) {
		t.Fatalf("%d templates; consul-template's %d", len(cfg.Templates), len(ct.Templates))
	}
	for i, c := range ct.Templates {
		got, err := templateSettings(cfg, cfg.Templates[i])
		if err != nil {
			t.Fatal(err)
		}
		lang, _ := languageOptions(cfg, cfg.Templates[i])
		wait := ct.Wait
		if c.Wait.Enabled {
			wait = c.Wait
		}
		if !wait.Enabled {
			wait = ctWait{}
		}
		timeout := cmpOr(got.CommandTimeout, 30*time.Second)
		pairs := []struct {
			name      string
			got, want any
		}{
			{"destination", filepath.Clean(got.Dest), filepath.Clean(c.Destination)},
			{"contents", cfg.Templates[i].Contents, c.Contents},
			{"command", argv(got.Command), ctArgv(c.Exec.Command)},
			{"command timeout", timeout, c.Exec.Timeout},
			{"perms", got.File.Perms, c.Perms},
			{"backup", got.File.Backup, c.Backup},
			{"create_dest_dirs", got.File.CreateDestDirs, c.CreateDestDirs},
			{"error_on_missing_key", lang.ErrOnMissingKey, c.ErrMissingKey},
			{"wait", [2]time.Duration{got.Wait.Min, got.Wait.Max}, [2]time.Duration{wait.Min, wait.Max}},
			{"delimiters", lang.LeftDelim + " " + lang.RightDelim, delim(c.LeftDelim, ct.DefaultDelims.Left) + " " +
				delim(c.RightDelim, ct.DefaultDelims.Right)},
		}
		for _, p := range pairs {
			equal(t, "template "+p.name, p.got, p.want)
		}
	}
}

// ctArgv is the argv consul-template runs a command list as (its child
// package's CommandPrep).
func ctArgv(c []string) []string {
	if len(c) == 1 && len(strings.Fields(c[0])) > 1 {
		return sh(c[0])
	}
	if len(c) == 0 || c[0] == "" {
		return nil
	}
	return c
}

// words compares commands by what they run: a script through sh -c by its
// text, an argv by its words.
func words(a []string) string {
	if len(a) == 3 && (a[0] == "sh" || a[0] == "/bin/sh") && a[1] == "-c" {
		return a[2]
	}
	return strings.Join(a, " ")
}

func delim(tmpl string, def *string) string {
	if tmpl == "" && def != nil {
		return *def
	}
	return tmpl
}

// nonNil is the list as a set: consul-template's order of globs and its
// merging of the older names' lists do not change what they match.
func nonNil(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

func cmpOr(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
