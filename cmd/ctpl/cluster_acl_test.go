package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// Production: ctpl talks to the client agent on its host, which forwards to
// the servers, with ACLs on (default deny) and a least-privilege token.
// These tests run there: a real cluster (consultest.StartCluster).

// appRules is the load balancer's least-privilege token: the app-*
// services and every node, nothing else.
const appRules = `service_prefix "app-" { policy = "read" }
node_prefix "" { policy = "read" }`

// aclTemplates are the recipes' templates and the shapes that broke under
// a filtered catalog, rendered by both tools.
var aclTemplates = map[string]string{
	"nginx":   "../../examples/nginx/upstreams.tmpl",
	"haproxy": "../../examples/haproxy/backends.tmpl",
	"dnsmasq": "../../examples/dnsmasq/hosts.tmpl",
}

const nestedTmpl = `{{ range services }}{{ .Name }}:{{ range service .Name }} {{ .Node }}/{{ .Address }}:{{ .Port }}{{ end }}
{{ end }}`

// denied asks for a service the token may not read: filtered to nothing.
const deniedTmpl = `secret:{{ range service "secret-01" }} {{ .Address }}{{ end }}
nodes:{{ range nodes }} {{ .Node }}{{ end }}
`

// seedACLRegistry registers n app-* and n secret-* services, two instances
// each on four nodes, some failing.
func seedACLRegistry(t *testing.T, a *consultest.Agent, n int) {
	t.Helper()
	for i := range n {
		for _, prefix := range []string{"app", "secret"} {
			name := fmt.Sprintf("%s-%02d", prefix, i)
			for j := range 2 {
				node := fmt.Sprintf("lb-node-%d", (i+j)%4)
				id := fmt.Sprintf("%s-%d", name, j)
				status := "passing"
				if (i+j)%5 == 0 {
					status = "critical"
				}
				a.RegisterService(t, consultest.Service{
					Node: node, Address: fmt.Sprintf("10.1.0.%d", (i+j)%4+1), ID: id, Name: name,
					Port: 8000 + i*10 + j, Tags: []string{"http"},
					Checks: []consultest.Check{{CheckID: "check-" + id, ServiceID: id, Status: status}},
				})
			}
		}
	}
}

func TestACLDifferentialThroughClientAgent(t *testing.T) {
	ctBin := consulTemplateBinary(t)
	c := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	client := c.Clients()[0]
	seedACLRegistry(t, client, 20)
	token := c.CreateToken(t, appRules)
	dir := t.TempDir()
	templates := map[string]string{}
	for name, p := range aclTemplates {
		abs, err := filepath.Abs(p)
		if err != nil {
			t.Fatal(err)
		}
		templates[name] = abs
	}
	templates["nested"] = writeFile(t, filepath.Join(dir, "nested.tmpl"), nestedTmpl)
	templates["denied"] = writeFile(t, filepath.Join(dir, "denied.tmpl"), deniedTmpl)

	ctOut, ctplOut := filepath.Join(dir, "consul-template"), filepath.Join(dir, "ctpl")
	renderOnceWithCT(t, ctBin, client.Addr(), token, ctOut, ctVariants(t, dir, templates))
	var stderr syncBuffer
	args := []string{"-consul-addr", client.Addr(), "-consul-token", token, "-once", "-once-timeout", "30s"}
	for name, src := range templates {
		args = append(args, "-template", src+":"+filepath.Join(ctplOut, name+".out"))
	}
	if code := run(t.Context(), args, &syncBuffer{}, &stderr); code != exitOK {
		t.Fatalf("ctpl -once exited %d; log:\n%s", code, stderr.String())
	}
	for name := range templates {
		ct, _ := os.ReadFile(filepath.Join(ctOut, name+".out"))
		got, err := os.ReadFile(filepath.Join(ctplOut, name+".out"))
		if err != nil {
			t.Errorf("%s: ctpl rendered nothing: %v", name, err)
			continue
		}
		if !bytes.Equal(got, ct) {
			t.Errorf("%s: ctpl and consul-template differ:\n%s", name, diffLines(ct, got))
		}
	}
	nested, _ := os.ReadFile(filepath.Join(ctplOut, "nested.out"))
	if !strings.Contains(string(nested), "app-19:") || strings.Contains(string(nested), "secret") {
		t.Errorf("the token's view is the app-* services alone; ctpl rendered:\n%s", nested)
	}
	log := stderr.String()
	if !logHas(log, "query answered with a warning", "health.service(secret-01)", `service \"secret-01\"`) {
		t.Errorf("no warning names the query filtered to nothing and the missing rule; log:\n%s", log)
	}
	if logHas(log, "query answered with a warning", "health.service(app-") {
		t.Errorf("a visible service was warned about; log:\n%s", log)
	}
}

// ctSpelling spells the recipes' validation functions and tag test, which
// are ctpl's own, in consul-template's language; on the seeded registry, where every
// address and port is valid, both spellings keep every instance.
var ctSpelling = strings.NewReplacer(
	"(isIP .Address)", `(regexMatch "^[0-9a-fA-F.:]+$" .Address)`,
	"(isPort .Port)", "(and (ge .Port 1) (le .Port 65535))",
	`(.Tags.Contains "http")`, `(in .Tags "http")`,
)

// ctVariants writes consul-template's spelling of each template into dir.
func ctVariants(t *testing.T, dir string, templates map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, src := range templates {
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = writeFile(t, filepath.Join(dir, name+".ct.tmpl"), ctSpelling.Replace(string(b)))
	}
	return out
}

// startOnCluster runs ctpl as a daemon on one template, with consul the
// indented body of its config's consul block; it returns the daemon and the
// destination.
func startOnCluster(t *testing.T, dir, consul, text string) (*daemon, string) {
	t.Helper()
	tmpl := writeFile(t, filepath.Join(dir, "t.tmpl"), text)
	out := filepath.Join(dir, "out")
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), fmt.Sprintf(
		"consul:\n%stemplates:\n  - source: %s\n    destination: %s\n", consul, tmpl, out))
	return startDaemon(t, "-config", cfg), out
}

// renderOnceWithCT renders every template once with consul-template
// through addr with token.
func renderOnceWithCT(t *testing.T, bin, addr, token, out string, templates map[string]string) {
	t.Helper()
	var cfg strings.Builder
	fmt.Fprintf(&cfg, "consul {\n  address = %q\n  token = %q\n}\n", addr, token)
	for name, src := range templates {
		fmt.Fprintf(&cfg, "template {\n  source = %q\n  destination = %q\n}\n", src, filepath.Join(out, name+".out"))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, filepath.Join(out, "ct.hcl"), cfg.String())
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-once", "-config", path)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Run(); err != nil {
		t.Fatalf("consul-template -once: %v; log:\n%s", err, log.String())
	}
}

// TestTokenRotation: a token_file rotated to a token that sees more takes
// effect without a restart; a revoked token holds the file and shows in the
// log; a good token again recovers.
func TestTokenRotation(t *testing.T) {
	c := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	client := c.Clients()[0]
	seedACLRegistry(t, client, 2)
	narrow := c.CreateToken(t, appRules)
	wide := c.CreateToken(t, `service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }`)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	rotate := func(token string) { // as a secrets agent does: write aside, rename over
		tmp := writeFile(t, filepath.Join(dir, ".token.new"), token+"\n")
		if err := os.Rename(tmp, tokenFile); err != nil {
			t.Fatal(err)
		}
	}
	rotate(narrow)
	d, out := startOnCluster(t, dir, fmt.Sprintf("  address: %s\n  token_file: %s\n", client.Addr(), tokenFile),
		"{{ range services }}{{ .Name }}\n{{ end }}")
	testkit.WaitFor(t, 10*time.Second, "first render with the narrow token", contains(out, "app-01"))
	if b, _ := os.ReadFile(out); strings.Contains(string(b), "secret") {
		t.Fatalf("the narrow token rendered secret services:\n%s", b)
	}

	rotate(wide)
	took := testkit.WaitFor(t, 2*time.Second, "the wide token's view", contains(out, "secret-01"))
	t.Logf("the rotated token took effect in %v", took)

	c.DeleteToken(t, wide)
	// The blocking query sent before the revocation answers this write
	// (Consul resolved its token when it arrived); the next request is
	// refused.
	client.RegisterService(t, consultest.Service{Node: "lb-node-0", Name: "app-new", Port: 9999})
	testkit.WaitFor(t, 10*time.Second, "the revoked token is reported", func() bool {
		return logHas(d.stderr.String(), "query failing", "ACL token")
	})
	testkit.WaitFor(t, 5*time.Second, "the last answer before the revocation", contains(out, "app-new"))
	good, _ := os.ReadFile(out)
	recovered := func(b []byte) bool {
		return strings.Contains(string(b), "app-later") && !strings.Contains(string(b), "secret")
	}
	// Under the revoked token the file keeps its content, until a good
	// token brings the narrow view with what was registered meanwhile.
	mon := monitorFile(t, out, func(b []byte) bool { return bytes.Equal(b, good) || recovered(b) })
	client.RegisterService(t, consultest.Service{Node: "lb-node-0", Name: "app-later", Port: 9998})
	rotate(narrow)
	took = testkit.WaitFor(t, 2*time.Second, "recovery with a good token", func() bool {
		b, _ := os.ReadFile(out)
		return recovered(b)
	})
	mon.check(t)
	t.Logf("recovered %v after the token file was rotated", took)
	d.running(t)
}

// TestTLSThroughClientAgent: ctpl over HTTPS (HTTP/2) to a client agent
// with ACLs on renders the token's view and follows a flip.
func TestTLSThroughClientAgent(t *testing.T) {
	c := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1), consultest.ClusterHTTPS())
	client := c.Clients()[0]
	seedACLRegistry(t, client, 3)
	token := c.CreateToken(t, appRules+"\nagent_prefix \"\" { policy = \"read\" }") // agent read: ctpl can tell what it talks to
	d, out := startOnCluster(t, t.TempDir(), fmt.Sprintf("  address: %s\n  token: %s\n  ssl: {enabled: true, ca_cert: %s}\n",
		client.HTTPSURL(), token, client.CAFile()), nestedTmpl)
	testkit.WaitFor(t, 10*time.Second, "first render", contains(out, "app-02:"))
	if b, _ := os.ReadFile(out); strings.Contains(string(b), "secret") {
		t.Fatalf("the token's view holds secret services:\n%s", b)
	}
	client.SetCheck(t, "lb-node-0", "check-app-00-0", "app-00-0", "passing") // seeded critical
	testkit.WaitFor(t, 2*time.Second, "the flip", contains(out, "app-00: lb-node-0/"))
	if !logHas(d.stderr.String(), "consul agent", "client agent with streaming") {
		t.Errorf("ctpl did not say it talks to a client agent; log:\n%s", d.stderr)
	}
	d.running(t)
}
