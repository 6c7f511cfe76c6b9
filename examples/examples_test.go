package examples_test

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// registry is a fixed snapshot of Consul data, keyed by query.
type registry map[string]any

func (r registry) Get(key string) (any, bool) { v, ok := r[key]; return v, ok }

func instance(node, id, addr string, port int) *watch.HealthService {
	return &watch.HealthService{Node: node, ID: id, Address: addr, Port: port, Status: "passing"}
}

// snapshot holds what ctpl's untrusted-strings screen lets through: values
// without control characters, but with every other character a registrant
// may choose. The templates must leave out whatever could inject a
// directive or fail the target's validator.
var snapshot = registry{
	"catalog.services()": []*watch.CatalogService{
		{Name: "api", Tags: watch.ServiceTags{"http"}},
		{Name: "consul"},
		{Name: "empty", Tags: watch.ServiceTags{"http"}},
		{Name: `evil;} server 6.6.6.6:80; upstream x {`, Tags: watch.ServiceTags{"http"}},
		{Name: "web", Tags: watch.ServiceTags{"canary", "http"}},
	},
	"health.service(api)":    []*watch.HealthService{instance("n-api", "api-1", "10.0.1.1", 9000)},
	"health.service(consul)": []*watch.HealthService{instance("consul-1", "consul", "10.0.9.1", 8300)},
	"health.service(empty)":  []*watch.HealthService{},
	"health.service(web)": []*watch.HealthService{
		instance("n1", "web-1", "10.0.0.1", 8081),
		instance("n2", "web-2", "10.0.0.2", 8082),
		instance("n3", "web-3", "10.0.0.3; server 6.6.6.6:80", 8083),
		instance(`n4"}`, "web-4", "10.0.0.4", 8084),
		instance("n5", "web 5;", "10.0.0.5", 8085),
		instance("n6", "web-6", "10.0.0.6", 0),
		instance("n7", "web-7", "256.0.0.7", 8087),
		instance("n8", "web-8", "10.0.0.8", 70000),
		instance("n9", "web-9", "node9.example", 8089),
		instance("n10", "web-10", "fd00::10", 8090),
		instance("n11", "web-11", "fe80::11%eth0", 8091),
	},
}

func TestExamplesRender(t *testing.T) {
	tests := []struct {
		name     string
		template string
		golden   string
		// check validates the golden file with the recipe's check command.
		check func(t *testing.T, path string) *exec.Cmd
	}{
		{
			name: "nginx upstreams", template: "nginx/upstreams.tmpl", golden: "nginx/testdata/upstreams.golden",
			check: func(t *testing.T, path string) *exec.Cmd {
				nginx := requireTarget(t, "nginx", "nginx-light")
				cmd := exec.Command("nginx/nginx-check", path)
				cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(nginx)+":"+os.Getenv("PATH"))
				return cmd
			},
		},
		{
			name: "haproxy backends", template: "haproxy/backends.tmpl", golden: "haproxy/testdata/backends.golden",
			check: func(t *testing.T, path string) *exec.Cmd {
				haproxy := requireTarget(t, "haproxy", "haproxy")
				conf := install(t, "haproxy/haproxy.cfg", filepath.Join(t.TempDir(), "haproxy.cfg"),
					"/run/haproxy/admin.sock", filepath.Join(t.TempDir(), "admin.sock"))
				return exec.Command(haproxy, "-c", "-q", "-f", conf, "-f", path)
			},
		},
		{
			name: "dnsmasq hosts", template: "dnsmasq/hosts.tmpl", golden: "dnsmasq/testdata/hosts.golden",
			check: func(t *testing.T, path string) *exec.Cmd { return exec.Command("dnsmasq/dnsmasq-check", path) },
		},
	}
	t.Setenv("CTPL_DNS_DOMAIN", "") // restored after the test
	os.Unsetenv("CTPL_DNS_DOMAIN")  // the default domain
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := template.ParseFile(tc.template, template.Options{})
			if err != nil {
				t.Fatal(err)
			}
			res, err := tmpl.Execute(snapshot)
			if err != nil {
				t.Fatal(err)
			}
			if !res.Complete() {
				t.Fatalf("queries missing from the snapshot: %v", res.Missing)
			}
			if *update {
				if err := os.WriteFile(filepath.FromSlash(tc.golden), res.Output, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(filepath.FromSlash(tc.golden))
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != string(want) {
				t.Errorf("rendered:\n%s\nwant (%s):\n%s", res.Output, tc.golden, want)
			}
			// What the templates let through, hostile-looking or not, passes
			// the recipe's own check.
			if out, err := tc.check(t, tc.golden).CombinedOutput(); err != nil {
				t.Errorf("the recipe's check refuses %s: %v\n%s", tc.golden, err, out)
			}
		})
	}
}
