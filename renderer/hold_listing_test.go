package renderer_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/renderer"
	"github.com/ctpl/ctpl/watch"
)

// TestHoldCoversListings: a datacenter whose catalog comes back empty (only
// Consul's own service listed) holds the template's whole last output, also
// when fresh data of another datacenter arrives meanwhile, until its services return; a service that leaves a listing
// holds like one that lost every instance.
func TestHoldCoversListings(t *testing.T) {
	const (
		keyServices = "catalog.services(@dc2)"
		keyWeb2     = "health.service(web@dc2)"
		keyAPI2     = "health.service(api@dc2)"
		keyLocal    = "kv.get(local)"
	)
	text := `local={{ key "local" }}
{{ range services "@dc2" }}{{ if ne .Name "consul" }}{{ .Name }}:{{ range service (print .Name "@dc2") }}{{ .Port }},{{ end }}
{{ end }}{{ end }}`
	dir := t.TempDir()
	tpl := newTemplate(t, dir, text, "")
	w := newFakeWatcher()
	var logs syncBuffer
	obs := &recorder{}
	a := renderer.New([]renderer.Template{tpl}, w, renderer.Options{Logger: logTo(&logs), Observer: obs})
	start(t, a)
	catalog := func(names ...string) {
		list := []*watch.CatalogService{{Name: "consul"}}
		for _, n := range names {
			list = append(list, &watch.CatalogService{Name: n})
		}
		w.updates <- watch.Update{Key: keyServices, Value: list, Index: 1, At: time.Now()}
	}
	instances := func(key string, n int) {
		w.updates <- watch.Update{Key: key, Value: health(n), Index: 1, At: time.Now()}
	}
	w.set(keyLocal, "one")
	catalog("api", "web")
	instances(keyWeb2, 2)
	instances(keyAPI2, 1)
	full := "local=one\napi:8000,\nweb:8000,8001,\n"
	testkit.WaitFor(t, 5*time.Second, "first render", fileIs(tpl.Dest, full))

	catalog() // dc2 restarted empty
	testkit.WaitFor(t, 5*time.Second, "held", func() bool { return stateOf(a, 0).State == renderer.StateHeld })
	st := stateOf(a, 0)
	if !strings.Contains(st.Reason, "datacenter dc2's catalog came back empty") {
		t.Errorf("reason %q does not say dc2's catalog came back empty", st.Reason)
	}
	if want := []string{keyServices, keyAPI2, keyWeb2}; strings.Join(st.Held, " ") != strings.Join(want, " ") {
		t.Errorf("held queries %v, want %v", st.Held, want)
	}
	w.set(keyLocal, "two") // fresh dc1 data
	instances(keyWeb2, 2)  // a stale read of dc2
	testkit.WaitFor(t, 5*time.Second, "the local change executed", func() bool {
		return strings.Count(logs.String(), "holding the last good output") == 1 && stateOf(a, 0).State == renderer.StateHeld
	})
	if b, _ := os.ReadFile(tpl.Dest); string(b) != full {
		t.Fatalf("destination while dc2 is held:\n%s\nwant the whole last output:\n%s", b, full)
	}

	catalog("web") // web is back, api is not: api left the listing
	testkit.WaitFor(t, 5*time.Second, "api's vanishing held", func() bool {
		st := stateOf(a, 0)
		return st.State == renderer.StateHeld && strings.Join(st.Held, " ") == keyAPI2
	})
	if r := stateOf(a, 0).Reason; !strings.Contains(r, "no longer used") {
		t.Errorf("reason %q does not say api's query is no longer used", r)
	}
	catalog("api", "web")
	testkit.WaitFor(t, 5*time.Second, "rendered once every held query is back", fileIs(tpl.Dest, "local=two\napi:8000,\nweb:8000,8001,\n"))
	testkit.WaitFor(t, 5*time.Second, "ok", func() bool { return stateOf(a, 0).State == renderer.StateOK })
}
