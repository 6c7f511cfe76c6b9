package consultest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"testing"
)

// healthEntry is the part of a /v1/health/service answer the tests read.
type healthEntry struct {
	Node    struct{ Node, Address string }
	Service struct {
		ID, Service, Address string
		Tags                 []string
		Port                 int
	}
	Checks []wireCheck
}

func TestAgentHealthAndKV(t *testing.T) {
	t.Parallel()
	a := Start(t)
	a.RegisterService(t, Service{
		Node: "node-a", Address: "10.0.0.1",
		ID: "web-1", Name: "web", Tags: []string{"v1"}, Port: 8080,
		Checks: []Check{{CheckID: "web-1-http", ServiceID: "web-1", Status: "passing"}},
	})

	const passing = "/v1/health/service/web?passing"
	var entries []healthEntry
	idx := a.GetJSON(t, passing, &entries)
	if len(entries) != 1 || entries[0].Service.ID != "web-1" || entries[0].Node.Address != "10.0.0.1" {
		t.Fatalf("passing instances of web = %+v, want web-1 on node-a at 10.0.0.1", entries)
	}
	if idx == 0 {
		t.Fatal("GetJSON returned index 0")
	}

	a.SetCheck(t, "node-a", "web-1-http", "web-1", "critical")
	// A blocking query on the old index must wake at once with the change;
	// its wait is the deadline.
	next := a.GetJSON(t, fmt.Sprintf("%s&index=%d&wait=10s", passing, idx), &entries)
	if len(entries) != 0 {
		t.Fatalf("passing instances of web after the check failed = %+v, want none", entries)
	}
	if next <= idx {
		t.Fatalf("index after the check flip = %d, want more than %d", next, idx)
	}
	a.GetJSON(t, "/v1/health/service/web", &entries)
	if len(entries) != 1 || len(entries[0].Checks) != 1 || entries[0].Checks[0].Status != "critical" {
		t.Fatalf("all instances of web = %+v, want web-1 with one critical check", entries)
	}

	a.DeregisterService(t, "node-a", "web-1")
	a.GetJSON(t, "/v1/health/service/web", &entries)
	if len(entries) != 0 {
		t.Fatalf("instances of web after deregistration = %+v, want none", entries)
	}

	a.PutKV(t, "app/config/greeting", "hello, world/ä")
	if got := readKV(t, a, "app/config/greeting"); got != "hello, world/ä" {
		t.Fatalf("key app/config/greeting = %q, want %q", got, "hello, world/ä")
	}
	if a.Index(t, "/v1/kv/app/config/greeting") == 0 {
		t.Fatal("Index of a key returned 0")
	}
	a.PutKV(t, "app/config/other", "x")
	a.DeleteKV(t, "app/config/greeting")
	if keyExists(t, a, "app/config/greeting") || !keyExists(t, a, "app/config/other") {
		t.Fatal("DeleteKV removed the wrong keys")
	}
	a.DeleteKVTree(t, "app/")
	if keyExists(t, a, "app/config/other") {
		t.Fatal("DeleteKVTree left app/config/other")
	}
}

func TestNodeLevelCheck(t *testing.T) {
	t.Parallel()
	a := Start(t)
	a.RegisterNode(t, Node{
		Name: "node-b", Address: "10.0.0.2", Meta: map[string]string{"rack": "r1"},
		Checks: []Check{{CheckID: "node-b-alive"}},
	})
	// No Address: the node and its metadata stay as registered.
	a.RegisterService(t, Service{Node: "node-b", Name: "db", Port: 5432})
	a.RegisterService(t, Service{Node: "node-b", ID: "cache-1", Name: "cache", Port: 6379})

	a.SetCheck(t, "node-b", "node-b-alive", "", "critical")
	for _, name := range []string{"db", "cache"} {
		var entries []healthEntry
		a.GetJSON(t, "/v1/health/service/"+name+"?passing", &entries)
		if len(entries) != 0 {
			t.Errorf("passing instances of %s with a critical node check = %+v, want none", name, entries)
		}
	}
	var node struct {
		Node struct{ Meta map[string]string }
	}
	a.GetJSON(t, "/v1/catalog/node/node-b", &node)
	if node.Node.Meta["rack"] != "r1" {
		t.Errorf("node-b meta = %v, want rack=r1 kept", node.Node.Meta)
	}
}

func TestRestart(t *testing.T) {
	t.Parallel()
	a := Start(t)
	addr := a.Addr()
	a.PutKV(t, "before-restart", "1")
	a.Restart(t)
	if a.Addr() != addr {
		t.Fatalf("address after restart = %s, want %s", a.Addr(), addr)
	}
	if keyExists(t, a, "before-restart") {
		t.Fatal("a dev agent kept a key across a restart")
	}
	a.PutKV(t, "after-restart", "1")
	a.Stop()
	a.Stop() // idempotent
	if _, err := a.send(t.Context(), http.MethodGet, "/v1/status/leader", nil); err == nil {
		t.Fatal("the agent still answers after Stop")
	}
}

func TestHTTPSAndHCL(t *testing.T) {
	t.Parallel()
	a := Start(t, WithHTTPS(), WithHCL(`limits { http_max_conns_per_client = 20 }`))
	pem, err := os.ReadFile(a.CAFile())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", a.CAFile())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(a.HTTPSURL() + "/v1/status/leader")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
		t.Fatalf("GET over HTTPS: %s %s, want 200 over HTTP/2", resp.Proto, resp.Status)
	}

	var self struct {
		DebugConfig struct{ HTTPMaxConnsPerClient int }
	}
	a.GetJSON(t, "/v1/agent/self", &self)
	if got := self.DebugConfig.HTTPMaxConnsPerClient; got != 20 {
		t.Fatalf("http_max_conns_per_client = %d, want 20 from WithHCL", got)
	}
}

// fakeTB records Skip and Fatalf and ends the goroutine, as the real ones do.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Skip(args ...any) {
	f.skipped, f.msg = true, fmt.Sprint(args...)
	runtime.Goexit()
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestMissingBinary(t *testing.T) {
	t.Setenv(EnvBinary, "/nonexistent/consul")
	if bin, err := Binary(); err == nil {
		t.Fatalf("Binary() = %q, want an error", bin)
	}
	tests := []struct {
		name                string
		require             string
		wantSkip, wantFatal bool
	}{
		{name: "skips by default", require: "", wantSkip: true},
		{name: "fails when required", require: "1", wantFatal: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvRequire, tc.require)
			f := &fakeTB{TB: t}
			done := make(chan struct{})
			go func() {
				defer close(done)
				Start(f)
			}()
			<-done
			if f.skipped != tc.wantSkip || f.failed != tc.wantFatal {
				t.Fatalf("skipped=%v failed=%v, want %v and %v", f.skipped, f.failed, tc.wantSkip, tc.wantFatal)
			}
			if !strings.Contains(f.msg, "make consul") || !strings.Contains(f.msg, "/nonexistent/consul") {
				t.Errorf("message %q should name the missing binary and `make consul`", f.msg)
			}
		})
	}
}

func TestFreePorts(t *testing.T) {
	lo, hi := portRange()
	seen := map[int]bool{}
	for range 3 {
		ps, err := freePorts(6)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p < lo || p >= hi || seen[p] {
				t.Fatalf("port %d repeated or outside [%d, %d)", p, lo, hi)
			}
			seen[p] = true
		}
	}
}

func TestModuleLine(t *testing.T) {
	tests := []struct{ name, gomod, want string }{
		{name: "plain", gomod: "module github.com/ctpl/ctpl\n\ngo 1.26\n", want: "github.com/ctpl/ctpl"},
		{name: "quoted", gomod: "// c\nmodule \"github.com/ctpl/ctpl/tools/consul\"\n", want: "github.com/ctpl/ctpl/tools/consul"},
		{name: "none", gomod: "go 1.26\n", want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := moduleLine([]byte(tc.gomod)); got != tc.want {
				t.Fatalf("moduleLine = %q, want %q", got, tc.want)
			}
		})
	}
}

// readKV returns the value of key, failing the test when it is missing.
func readKV(t *testing.T, a *Agent, key string) string {
	t.Helper()
	var pairs []struct {
		Key   string
		Value []byte
	}
	a.GetJSON(t, kvPath(key), &pairs)
	if len(pairs) != 1 {
		t.Fatalf("GET key %s = %+v, want one pair", key, pairs)
	}
	return string(pairs[0].Value)
}

// keyExists reports whether key is in the KV store (a missing key is a 404).
func keyExists(t *testing.T, a *Agent, key string) bool {
	t.Helper()
	_, err := a.send(t.Context(), http.MethodGet, kvPath(key), nil)
	if err != nil && !strings.Contains(err.Error(), "404") {
		t.Fatalf("GET key %s: %v", key, err)
	}
	return err == nil
}

// Ensure the readiness probe's node never shows up in a test's catalog.
func TestProbeNodeGone(t *testing.T) {
	t.Parallel()
	a := Start(t)
	var nodes []struct{ Node string }
	a.GetJSON(t, "/v1/catalog/nodes", &nodes)
	if len(nodes) != 1 || nodes[0].Node != a.Node() {
		t.Fatalf("catalog nodes = %+v, want only the agent's own node %s", nodes, a.Node())
	}
}
