package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// readAllRules is a token that may read the whole registry, as a CI
// snapshot job's token would, and sign leaf certificates for web.
const readAllRules = `service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
key_prefix "" { policy = "read" }
agent_prefix "" { policy = "read" }
service "web" { policy = "write" }`

// TestOfflineMatchesLive is the offline differential test: every template
// of testdata/compat is rendered by ctpl -once from a seeded Consul (a
// client agent of a cluster with ACLs on), then `ctpl snapshot` captures
// what they use, and ctpl -once -data renders them again from the snapshot
// with no Consul: the outputs must be byte-identical.
func TestOfflineMatchesLive(t *testing.T) {
	c := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	agent := c.Clients()[0]
	dir := t.TempDir()
	seedCompat(t, agent, dir)
	// The servers' nodes get their tagged addresses from their first sync
	// too: the live render and the snapshots must see the same nodes.
	testkit.WaitFor(t, 10*time.Second, "every node is synced", func() bool {
		var nodes []struct{ TaggedAddresses map[string]string }
		agent.GetJSON(t, "/v1/catalog/nodes", &nodes)
		synced := 0
		for _, n := range nodes {
			if len(n.TaggedAddresses) > 0 {
				synced++
			}
		}
		return synced == 2 // the server's and the client agent's
	})
	token := c.CreateToken(t, readAllRules)
	extra := fmt.Sprintf("consul:\n  token: %q\n", token)
	plain, hostile := splitHostile(loadCorpus(t))
	compareOffline(t, agent, extra, filepath.Join(dir, "plain"), plain)
	compareAll(t, agent, token, filepath.Join(dir, "plain"), plain)
	seedHostile(t, agent)
	compareOffline(t, agent, extra, filepath.Join(dir, "hostile"), append(hostile, recipeTemplates(t)...))
}

// recipeTemplates are the templates of the recipes in examples/, rendered
// with the hostile registry they are written to survive.
func recipeTemplates(t *testing.T) []compatTemplate {
	t.Helper()
	var out []compatTemplate
	for _, p := range []string{"nginx/upstreams.tmpl", "haproxy/backends.tmpl", "dnsmasq/hosts.tmpl"} {
		abs, err := filepath.Abs(filepath.Join("..", "..", "examples", p))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, compatTemplate{name: "recipe_" + filepath.Dir(p), path: abs})
	}
	return out
}

// notInAll names what a snapshot with -all alone does not hold: Connect CA
// data, and which instances are Connect proxies (only `connect` queries
// tell).
var notInAll = []string{"ca_leaf", "ca_roots", "connect", "printed_service"}

// compareAll captures the whole registry with `snapshot -all` (no
// templates) and renders set from it; each output, but for notInAll, must
// be the live one compareOffline left in dir/live.
func compareAll(t *testing.T, agent *consultest.Agent, token, dir string, set []compatTemplate) {
	t.Helper()
	snap := filepath.Join(dir, "all.yaml")
	t.Setenv("CONSUL_HTTP_TOKEN", token)
	if code, _, stderr := runCtpl(t, "snapshot", "-all", "-consul-addr", agent.Addr(), "-o", snap); code != exitOK {
		t.Fatalf("snapshot -all exited %d:\n%s", code, stderr)
	}
	live, all := filepath.Join(dir, "live"), filepath.Join(dir, "all")
	cfg, err := os.ReadFile(filepath.Join(dir, "offline", "ctpl.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(all, 0o755); err != nil {
		t.Fatal(err)
	}
	allCfg := writeFile(t, filepath.Join(all, "ctpl.yaml"), strings.ReplaceAll(string(cfg), filepath.Join(dir, "offline")+"/", all+"/"))
	if code, _, stderr := runCtpl(t, "-config", allCfg, "-once", "-data", snap, "-data-missing", "empty"); code != exitOK {
		t.Fatalf("ctpl -once -data (from -all) exited %d:\n%s", code, stderr)
	}
	for _, ct := range set {
		if slices.ContainsFunc(notInAll, func(p string) bool { return strings.HasSuffix(ct.name, p) }) {
			continue
		}
		want, _ := os.ReadFile(filepath.Join(live, ct.name+".out"))
		got, err := os.ReadFile(filepath.Join(all, ct.name+".out"))
		if _, ok := offlineOrderOnly[ct.name]; ok {
			got, want = sortedLines(got), sortedLines(want)
		}
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s rendered from snapshot -all differs from live (%v):\n%s", ct.name, err, diffLines(want, got))
		}
	}
}

// offlineOrderOnly names the templates whose offline output may order
// lines differently, and why; their lines must still be the same.
var offlineOrderOnly = map[string]string{
	// Consul orders instances of equal distance as its state store holds
	// them, which a data file does not record: offline, the near node comes
	// first, then the rest by node and ID.
	"service_near": "~near order among instances of equal distance",
}

// compareOffline renders set live, snapshots its data and renders it again
// from the snapshot, comparing each output.
func compareOffline(t *testing.T, agent *consultest.Agent, extra, dir string, set []compatTemplate) {
	t.Helper()
	live, offline := filepath.Join(dir, "live"), filepath.Join(dir, "offline")
	for _, d := range []string{live, offline} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	runCtplOnce(t, agent, dir, live, extra, set)
	liveCfg := filepath.Join(live, "ctpl.yaml")
	snap := filepath.Join(dir, "snapshot.yaml")
	var stdout, stderr syncBuffer
	args := []string{"snapshot", "-config", liveCfg, "-consul-addr", agent.Addr(), "-o", snap}
	if code := run(t.Context(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("ctpl snapshot exited %d; log:\n%s", code, stderr.String())
	}
	cfg, err := os.ReadFile(liveCfg)
	if err != nil {
		t.Fatal(err)
	}
	offCfg := writeFile(t, filepath.Join(offline, "ctpl.yaml"), strings.ReplaceAll(string(cfg), live+"/", offline+"/"))
	// No Consul: an address nothing listens on.
	args = []string{"-config", offCfg, "-consul-addr", "127.0.0.1:1", "-once", "-data", snap}
	if code := run(t.Context(), args, &stdout, &stderr); code != exitOK {
		t.Fatalf("ctpl -once -data exited %d; log:\n%s", code, stderr.String())
	}
	for _, ct := range set {
		t.Run(ct.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join(live, ct.name+".out"))
			if err != nil {
				t.Fatalf("the live render wrote nothing: %v", err)
			}
			got, err := os.ReadFile(filepath.Join(offline, ct.name+".out"))
			if err != nil {
				t.Fatalf("the offline render wrote nothing: %v", err)
			}
			if why, ok := offlineOrderOnly[ct.name]; ok {
				got, want = sortedLines(got), sortedLines(want)
				t.Logf("comparing lines regardless of order: %s", why)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("offline differs from live:\n%s", diffLines(want, got))
			}
		})
	}
	if t.Failed() {
		b, _ := os.ReadFile(snap)
		t.Logf("snapshot:\n%s", b)
	}
}

func sortedLines(b []byte) []byte {
	lines := strings.Split(string(b), "\n")
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n"))
}
