package template

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/watch"
)

// dataFixtures adds to the golden fixture what the data functions beyond
// service, services and the KV tree read: every status of "web", Connect
// proxies, nodes, datacenters, CA data, keys and a file.
func dataFixtures(key func(watch.Spec, error) string) goldenData {
	critical := &watch.HealthService{Node: "node-d", Address: "10.0.0.4", ID: "web-4", Name: "web", Port: 8080,
		Status: "critical", Tags: watch.ServiceTags{"prod"}}
	warning := &watch.HealthService{Node: "node-e", Address: "10.0.0.5", ID: "web-5", Name: "web", Port: 8080,
		Status: "warning", Tags: watch.ServiceTags{}}
	proxy := &watch.HealthService{Node: "node-a", Address: "10.0.0.1", ID: "web-sidecar-proxy", Name: "web-sidecar-proxy",
		Port: 21000, Status: "passing", Tags: watch.ServiceTags{}}
	nodeA := &watch.Node{ID: "aaaa", Node: "node-a", Address: "10.0.0.1", Datacenter: "dc1",
		TaggedAddresses: map[string]string{"lan": "10.0.0.1"}, Meta: map[string]string{"rack": "r1"}}
	nodeB := &watch.Node{ID: "bbbb", Node: "node-b", Address: "10.0.0.2", Datacenter: "dc1"}
	valid := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return goldenData{
		key(watch.ParseService("web", "any")):               []*watch.HealthService{critical, warning},
		key(watch.ParseService("web", "critical,warning")):  []*watch.HealthService{critical, warning},
		key(watch.ParseConnect("web")):                      []*watch.HealthService{proxy},
		key(watch.ParseCatalog(watch.KindCatalogNodes, "")): []*watch.Node{nodeA, nodeB},
		key(watch.ParseNode("node-a")): &watch.NodeServices{Node: nodeA, Services: []*watch.NodeService{
			{ID: "web-1", Service: "web", Tags: watch.ServiceTags{"prod", "v1"}, Port: 8080},
			{ID: "web-sidecar-proxy", Service: "web-sidecar-proxy", Tags: watch.ServiceTags{}, Port: 21000},
		}},
		key(watch.DatacentersSpec(false), nil):               []string{"dc1", "dc2"},
		key(watch.DatacentersSpec(true), nil):                []string{"dc1"},
		key(watch.ParseKV(watch.KindKVGet, "config/motd")):   watch.KVValue{Value: "hello <world> & co", Exists: true},
		key(watch.ParseKV(watch.KindKVGet, "config/empty")):  watch.KVValue{Value: "", Exists: true},
		key(watch.ParseKV(watch.KindKVGet, "config/absent")): watch.KVValue{},
		key(watch.CARootsSpec(), nil): []*watch.CARoot{
			{ID: "aa:bb", Name: "Consul CA Primary Cert", RootCertPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n", Active: true, CreateIndex: 9, ModifyIndex: 9},
		},
		key(watch.ParseCALeaf("web")): &watch.LeafCert{SerialNumber: "01:02", CertPEM: "CERT", PrivateKeyPEM: "KEY",
			Service: "web", ServiceURI: "spiffe://example.consul/ns/default/dc/dc1/svc/web", ValidAfter: valid, ValidBefore: valid.Add(72 * time.Hour)},
		key(watch.ParseFile("testdata/funcs/motd.txt")): "welcome\n",
	}
}

func TestDataFunctionsBeforeData(t *testing.T) {
	tests := []struct {
		name        string
		text        string
		want        string
		wantMissing string
	}{
		{name: "service", text: `{{ service "web" | len }} {{ printf "%#v" (service "web" "any") }}`,
			want: "0 []*dependency.HealthService{}", wantMissing: "health.service(web) health.service(web|any)"},
		{name: "connect", text: `{{ connect "web" | len }}`, want: "0", wantMissing: "health.connect(web)"},
		{name: "empty queries ask for nothing", text: `[{{ service "" | len }}{{ connect "" | len }}{{ key "" }}{{ keyExists "" }}{{ keyOrDefault "" "d" }}{{ ls "" | len }}{{ tree "" | len }}{{ caLeaf "" }}{{ file "" }}]`,
			want: "[00falsed00<no value>]"},
		{name: "datacenters", text: `{{ printf "%#v" datacenters }} {{ datacenters true | len }}`,
			want: "[]string{} 0", wantMissing: "catalog.datacenters() catalog.datacenters(ignore-inaccessible)"},
		{name: "caRoots", text: `{{ printf "%#v" caRoots }}`, want: "[]*api.CARoot(nil)", wantMissing: "connect.caroots()"},
		{name: "caLeaf", text: `{{ with caLeaf "web" }}x{{ else }}none{{ end }}`, want: "none", wantMissing: "connect.caleaf(web)"},
		{name: "file", text: `[{{ file "/etc/hostname" }}]`, want: "[]", wantMissing: "file(/etc/hostname)"},
		{name: "ls and tree", text: `{{ printf "%#v" (ls "a") }} {{ tree "a" | len }}`, want: "[]*dependency.KeyPair{} 0", wantMissing: "kv.list(a)"},
		{name: "node", text: `{{ with node }}x{{ else }}none{{ end }}`, want: "none", wantMissing: "catalog.node()"},
		{name: "nodes", text: `{{ printf "%#v" nodes }}`, want: "[]*dependency.Node{}", wantMissing: "catalog.nodes()"},
		{name: "services", text: `{{ printf "%#v" services }}`, want: "[]*dependency.CatalogSnippet{}", wantMissing: "catalog.services()"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.name, tc.text, Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tmpl.Execute(goldenData{})
			if err != nil {
				t.Fatal(err)
			}
			if got, missing := string(res.Output), specKeys(res.Missing); got != tc.want || missing != tc.wantMissing {
				t.Fatalf("got %q missing %q; want %q missing %q", got, missing, tc.want, tc.wantMissing)
			}
		})
	}
}

func specKeys(specs []watch.Spec) string {
	var s []string
	for _, sp := range specs {
		s = append(s, sp.String())
	}
	return strings.Join(s, " ")
}

func TestSafeLsAndSafeTreeWaitForData(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		pairs    []*watch.KeyPair
		want     string
		complete bool
	}{
		{name: "ls of an empty prefix renders", text: `[{{ range ls "p" }}{{ .Key }}{{ end }}]`, want: "[]", complete: true},
		{name: "safeLs of an empty prefix waits", text: `[{{ range safeLs "p" }}{{ .Key }}{{ end }}]`, want: "[]"},
		{name: "safeTree of an empty prefix waits", text: `[{{ range safeTree "p" }}{{ .Key }}{{ end }}]`, want: "[]"},
		{name: "safeLs of folders only waits", text: `[{{ range safeLs "p" }}{{ .Key }}{{ end }}]`,
			pairs: []*watch.KeyPair{{Key: "dir/"}, {Key: "dir/x"}}, want: "[]"},
		{name: "safeTree of folders renders their keys", text: `[{{ range safeTree "p" }}{{ .Key }} {{ end }}]`,
			pairs: []*watch.KeyPair{{Key: "dir/"}, {Key: "dir/x"}}, want: "[dir/x ]", complete: true},
		{name: "safeLs with keys renders", text: `[{{ range safeLs "p" }}{{ .Key }} {{ end }}]`,
			pairs: []*watch.KeyPair{{Key: "a"}, {Key: "b/"}, {Key: "b/c"}}, want: "[a ]", complete: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse(tc.name, tc.text, Options{})
			if err != nil {
				t.Fatal(err)
			}
			pairs := tc.pairs
			if pairs == nil {
				pairs = []*watch.KeyPair{}
			}
			res, err := tmpl.Execute(goldenData{"kv.list(p)": pairs})
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != tc.want || res.Complete() != tc.complete {
				t.Fatalf("got %q complete=%v; want %q complete=%v", res.Output, res.Complete(), tc.want, tc.complete)
			}
		})
	}
}

func TestFileSandbox(t *testing.T) {
	root := t.TempDir()
	sandbox := filepath.Join(root, "sandbox")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{filepath.Join(sandbox, "sub"), outside} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(sandbox, "sub", "in.txt"))
	write(filepath.Join(outside, "secret.txt"))
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(sandbox, name)); err != nil {
			t.Fatal(err)
		}
	}
	link(filepath.Join(outside, "secret.txt"), "to-secret")
	link(outside, "to-outside")
	link(filepath.Join(sandbox, "sub", "in.txt"), "to-inside")
	link(filepath.Join(outside, "not-yet"), "dangling")
	tests := []struct {
		name    string
		path    string
		wantErr bool
	}{
		{name: "file inside", path: filepath.Join(sandbox, "sub", "in.txt")},
		{name: "file not there yet", path: filepath.Join(sandbox, "sub", "later.txt")},
		{name: "symlink to a file inside", path: filepath.Join(sandbox, "to-inside")},
		{name: "dot dot", path: filepath.Join(sandbox, "..", "outside", "secret.txt"), wantErr: true},
		{name: "file outside", path: filepath.Join(outside, "secret.txt"), wantErr: true},
		{name: "symlink to a file outside", path: filepath.Join(sandbox, "to-secret"), wantErr: true},
		{name: "through a symlinked directory", path: filepath.Join(sandbox, "to-outside", "secret.txt"), wantErr: true},
		{name: "dangling symlink pointing out", path: filepath.Join(sandbox, "dangling"), wantErr: false},
		{name: "sibling with the sandbox as prefix", path: sandbox + "x/file", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := Parse("t.tmpl", `{{ file "`+tc.path+`" }}`, Options{SandboxPath: sandbox})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tmpl.Execute(goldenData{})
			if tc.wantErr != (err != nil) {
				t.Fatalf("err = %v, want error: %v", err, tc.wantErr)
			}
			if tc.wantErr && (!errors.Is(err, ErrOutsideSandbox) || !strings.Contains(err.Error(), "t.tmpl:1:3")) {
				t.Fatalf("err = %v, want ErrOutsideSandbox naming t.tmpl:1:3", err)
			}
		})
	}
	// A dangling link is judged again once its target exists.
	write(filepath.Join(outside, "not-yet"))
	tmpl, _ := Parse("t.tmpl", `{{ file "`+filepath.Join(sandbox, "dangling")+`" }}`, Options{SandboxPath: sandbox})
	if _, err := tmpl.Execute(goldenData{}); !errors.Is(err, ErrOutsideSandbox) {
		t.Fatalf("err = %v once the dangling link resolves outside, want ErrOutsideSandbox", err)
	}
}
