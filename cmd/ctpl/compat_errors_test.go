package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestCompatErrors renders templates both tools must refuse: each fails in
// consul-template and in ctpl, neither writes the destination, and ctpl's
// message names the template file, line and column.
func TestCompatErrors(t *testing.T) {
	ctBin := consulTemplateBinary(t)
	agent := consultest.Start(t)
	agent.RegisterService(t, consultest.Service{Node: "node-a", Address: "10.0.1.1", ID: "web-1", Name: "web", Port: 80})
	agent.PutKV(t, "app/name", "shop")
	tests := []struct {
		name string
		text string
		pos  string // line:col ctpl must name
	}{
		{name: "unknown function", text: "ok\n{{ nope }}\n", pos: ":2:"},
		{name: "unclosed action", text: "{{ range service \"web\" }}\n{{ .Port }}\n", pos: ":"},
		{name: "bad datacenter", text: "x\n  {{ service \"web@\" }}", pos: ":2:"},
		{name: "bad nodes query", text: "{{ range nodes \"not-a-dc\" }}{{ end }}", pos: ":1:"},
		{name: "bad kv prefix", text: "{{ key \"app/name@\" }}", pos: ":1:"},
		{name: "field of a record that has none", text: "{{ range service \"web\" }}\n{{ .NoSuchField }}{{ end }}", pos: ":2:"},
		{name: "wrong argument type", text: "{{ add \"x\" 1 }}", pos: ":1:"},
		{name: "bad regexp", text: "{{ regexMatch \"(\" \"a\" }}", pos: ":1:"},
	}
	dir := t.TempDir()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			src := writeFile(t, filepath.Join(dir, fmt.Sprintf("bad%d.tmpl", i)), tc.text)
			ctOut, ctplOut := filepath.Join(dir, fmt.Sprintf("ct%d.out", i)), filepath.Join(dir, fmt.Sprintf("ctpl%d.out", i))

			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, ctBin, "-once", "-consul-addr", agent.Addr(), "-template", src+":"+ctOut)
			cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
			cmd.WaitDelay = 5 * time.Second
			if out, err := cmd.CombinedOutput(); err == nil || ctx.Err() != nil {
				t.Fatalf("consul-template did not fail at once (err %v, deadline %v):\n%s", err, ctx.Err(), out)
			}

			var stdout, stderr syncBuffer
			code := run(t.Context(), []string{"-consul-addr", agent.Addr(), "-once", "-once-timeout", "10s",
				"-template", src + ":" + ctplOut}, &stdout, &stderr)
			if code == exitOK {
				t.Fatalf("ctpl succeeded; log:\n%s", stderr.String())
			}
			for _, p := range []string{ctOut, ctplOut} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s was written", p)
				}
			}
			where := regexp.MustCompile(regexp.QuoteMeta(src+tc.pos) + `\d+`)
			if !where.MatchString(stderr.String()) {
				t.Errorf("ctpl's error does not name %s%s<n>:\n%s", src, tc.pos, stderr.String())
			}
		})
	}
}
