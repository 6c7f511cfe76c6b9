package examples_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
)

// TestNginxConsulTemplateVariant: nginx/upstreams-ct.tmpl, the recipe written
// with consul-template's functions only, renders byte for byte what the
// recipe's upstreams.tmpl renders, on the hostile-looking snapshot and on a
// service whose instances carry every tricky address and port form the
// recipe's isIP and isPort decide on. (testdata/compat runs
// consul-template v0.41.1 itself on the variant: nginx_recipe_ct.tmpl.)
func TestNginxConsulTemplateVariant(t *testing.T) {
	addrs := []string{
		"10.0.0.1", "0.0.0.0", "255.255.255.255", "256.0.0.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "",
		"::", "::1", "fd00::10", "FD00::A", "fe80::11%eth0", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
		"::ffff:10.0.0.1", "1::2:3.4.5.6", "1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "::1.02.3.4", "1:::2",
		"12345::1", "1:2:3:4:5:6:7:8:9", "[::1]", "node9.example", "10.0.0.3; server 6.6.6.6:80", " 10.0.0.1",
	}
	ports := []int{-1, 0, 1, 80, 65535, 65536}
	var tricky []*watch.HealthService
	for i, a := range addrs {
		tricky = append(tricky, instance(fmt.Sprintf("n%d", i), fmt.Sprintf("t-%d", i), a, 8000+i))
	}
	for i, p := range ports {
		tricky = append(tricky, instance("p", fmt.Sprintf("p-%d", i), "10.1.0.1", p))
	}
	data := registry{}
	for k, v := range snapshot {
		data[k] = v
	}
	data["catalog.services()"] = append(snapshot["catalog.services()"].([]*watch.CatalogService),
		&watch.CatalogService{Name: "tricky", Tags: watch.ServiceTags{"http"}})
	data["health.service(tricky)"] = tricky

	render := func(path string) []byte {
		t.Helper()
		tmpl, err := template.ParseFile(path, template.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := tmpl.Execute(data)
		if err != nil || !res.Complete() {
			t.Fatalf("%s: %v, missing %v", path, err, res.Missing)
		}
		return res.Output
	}
	recipe, variant := render("nginx/upstreams.tmpl"), render("nginx/upstreams-ct.tmpl")
	if !bytes.Equal(recipe, variant) {
		t.Fatalf("the variant differs from the recipe:\n--- upstreams.tmpl\n%s\n--- upstreams-ct.tmpl\n%s", recipe, variant)
	}
	for _, want := range []string{"server 10.0.0.1:8000;", "server [fd00::10]:8010;", "server [::ffff:10.0.0.1]:8016;", "server 10.1.0.1:65535;"} {
		if !bytes.Contains(recipe, []byte(want)) {
			t.Errorf("neither renders %q:\n%s", want, recipe)
		}
	}
}
