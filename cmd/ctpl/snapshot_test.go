package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// TestSnapshotTokenView snapshots (and plans) through a client agent of a cluster with
// ACLs on. A token that may not read part of what the snapshot captures
// makes it fail naming each query, and write nothing: a data file of the
// token's view would say db has no instance. With a token that reads it
// all, two snapshots are byte-identical, -exclude-kv leaves the secret's
// value out, and a key the template waits for is captured as absent.
func TestSnapshotTokenView(t *testing.T) {
	c := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	agent := c.Clients()[0]
	for _, s := range []consultest.Service{
		{Node: "n1", Address: "10.0.0.1", ID: "web-1", Name: "web", Port: 80},
		{Node: "n2", Address: "10.0.0.2", ID: "db-1", Name: "db", Port: 5432},
		{Node: "n2", Address: "10.0.0.2", ID: "web-2", Name: "web", Port: 80},
	} {
		agent.RegisterService(t, s)
	}
	agent.PutKV(t, "app/name", "shop")
	agent.PutKV(t, "secret/db", "s3cr3t-value")
	webOnly := c.CreateToken(t, `service "web" { policy = "read" }
node_prefix "" { policy = "read" }
key_prefix "app/" { policy = "read" }
agent_prefix "" { policy = "read" }`)
	webOnN1 := c.CreateToken(t, `service "web" { policy = "read" }
node "n1" { policy = "read" }
key_prefix "app/" { policy = "read" }
agent_prefix "" { policy = "read" }`)
	noAgent := c.CreateToken(t, `service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
key_prefix "" { policy = "read" }`)
	readAll := c.CreateToken(t, readAllRules)

	dir := t.TempDir()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), `{{ range service "web" }}{{ .Address }}{{ end }}
{{ range service "db" }}{{ .Address }}{{ end }}
{{ key "app/name" }}{{ key "secret/db" }}{{ keyOrDefault "app/absent" "-" }}`)
	webTmpl := writeFile(t, filepath.Join(dir, "web.tmpl"), `{{ range service "web" }}{{ .Address }}{{ end }}{{ key "app/name" }}`)
	snap := func(token string, args ...string) (int, string, []byte) {
		out := filepath.Join(dir, "snap.yaml")
		os.Remove(out)
		code, _, stderr := runCtpl(t, append([]string{"snapshot", "-consul-addr", agent.Addr(), "-consul-token", token, "-o", out}, args...)...)
		b, _ := os.ReadFile(out)
		return code, stderr, b
	}

	tests := []struct {
		name  string
		token string
		args  []string
		say   []string
	}{
		{name: "a service the token may not read", token: webOnly, args: []string{"-template", webTmpl + ":x", "-template", tmpl + ":y"},
			say: []string{"the token may not read everything", "health.service(db)", `service "db"`}},
		{name: "instances on a node the token may not read", token: webOnN1, args: []string{"-template", webTmpl + ":x"},
			say: []string{"the token may not read everything", "health.service(web|any): Consul's ACLs left out"}},
		{name: "a token that may not read the agent", token: noAgent, args: []string{"-template", webTmpl + ":x"},
			say: []string{`agent_prefix "" { policy = "read" }`}},
		{name: "-all with a partial view", token: webOnly, args: []string{"-all", "-kv-prefix", "app/"},
			say: []string{"the token may not read everything", "catalog.services()"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr, b := snap(tc.token, tc.args...)
			if code != exitError || b != nil {
				t.Fatalf("exit %d, want %d and no file; wrote:\n%s\nstderr:\n%s", code, exitError, b, stderr)
			}
			for _, s := range append(tc.say, "nothing written") {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not say %q:\n%s", s, stderr)
				}
			}
		})
	}

	t.Run("the token reads what the template uses", func(t *testing.T) {
		if code, stderr, _ := snap(webOnly, "-template", webTmpl+":x"); code != exitOK {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
	})
	t.Run("live plan exit codes", func(t *testing.T) {
		live := []string{"-consul-addr", agent.Addr(), "-consul-token", readAll}
		dest := filepath.Join(dir, "planned")
		waits := writeFile(t, filepath.Join(dir, "waits.tmpl"), `{{ key "app/absent" }}`)
		steps := []struct {
			args []string
			want int
		}{
			{args: []string{"plan", "-template", webTmpl + ":" + dest}, want: exitPlanChanges},
			{args: []string{"-once", "-template", webTmpl + ":" + dest}, want: exitOK},
			{args: []string{"plan", "-template", webTmpl + ":" + dest}, want: exitOK},
			{args: []string{"plan", "-template", waits + ":" + dest}, want: exitPlanError},
		}
		for _, st := range steps {
			if code, stdout, stderr := runCtpl(t, append(st.args, live...)...); code != st.want {
				t.Fatalf("%v exited %d, want %d:\n%s%s", st.args, code, st.want, stdout, stderr)
			}
		}
	})
	t.Run("deterministic, secrets left out", func(t *testing.T) {
		code, stderr, first := snap(readAll, "-template", tmpl+":y", "-exclude-kv", "secret/")
		if code != exitOK {
			t.Fatalf("exit %d:\n%s", code, stderr)
		}
		_, _, second := snap(readAll, "-template", tmpl+":y", "-exclude-kv", "secret/")
		if !bytes.Equal(first, second) {
			t.Errorf("two snapshots of one registry differ:\n%s", diffLines(first, second))
		}
		if bytes.Contains(first, []byte("s3cr3t")) || !bytes.Contains(first, []byte("secret/db")) {
			t.Errorf("-exclude-kv secret/: want the key without its value:\n%s", first)
		}
		if !bytes.Contains(first, []byte("app/absent: null")) {
			t.Errorf("the absent key is not captured as absent:\n%s", first)
		}
	})
}
