package template_test

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
	"github.com/ctpl/ctpl/watch/consul/consultest"
	"github.com/ctpl/ctpl/watch/file"
)

// TestDataFunctionsAgainstConsul renders connect, caRoots, caLeaf,
// datacenters, safeLs and file from a real Consul agent and a real file
// through the watcher, then sees a change of the file arrive through
// fsnotify and a wiped prefix hold safeLs back.
func TestDataFunctionsAgainstConsul(t *testing.T) {
	a := consultest.Start(t)
	agentPut(t, a.URL()+"/v1/agent/service/register",
		`{"Name":"web","ID":"web-1","Port":8080,"Connect":{"SidecarService":{"Port":21000}}}`)
	a.PutKV(t, "cfg/a", "1")
	dir := t.TempDir()
	path := filepath.Join(dir, "motd.txt")
	if err := os.WriteFile(path, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	text := `connect:{{ range connect "web" "any" }} {{ .Name }}:{{ .Port }}:{{ .Status }}{{ end }}
roots:{{ range caRoots }} active={{ .Active }} pem={{ .RootCertPEM | regexMatch "BEGIN CERTIFICATE" }}{{ end }}
leaf:{{ with caLeaf "web" }} {{ .Service }} spiffe={{ .ServiceURI | regexMatch "^spiffe://.*/svc/web$" }} key={{ .PrivateKeyPEM | regexMatch "PRIVATE KEY" }}{{ end }}
dcs:{{ datacenters }} {{ datacenters true }}
safeLs:{{ range safeLs "cfg" }} {{ .Key }}={{ .Value }}{{ end }}
file:{{ file "` + path + `" }}`
	tmpl, err := template.Parse("t.tmpl", text, template.Options{SandboxPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	c, err := consul.New(consul.Options{Address: a.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	w := watch.New(t.Context(), watch.Route(c, file.New()), watch.Options{Wait: 2 * time.Second})
	defer w.Close()
	st := watch.NewStore()
	render := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		var last string
		for time.Now().Before(deadline) {
			res, err := tmpl.Execute(st)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Sync(res.Used); err != nil {
				t.Fatal(err)
			}
			last = string(res.Output)
			if res.Complete() && last == want {
				return
			}
			select {
			case u := <-w.Updates():
				st.Apply(u)
			case <-time.After(time.Second):
			}
		}
		t.Fatalf("never rendered\n%s\nlast:\n%s", want, last)
	}
	want := `connect: web-sidecar-proxy:21000:critical
roots: active=true pem=true
leaf: web spiffe=true key=true
dcs:[dc1] [dc1]
safeLs: a=1
file:v1`
	render(want)
	if err := os.WriteFile(path, []byte("v2"), 0o644); err != nil {
		t.Fatal(err)
	}
	render(strings.Replace(want, "file:v1", "file:v2", 1))
	a.DeleteKVTree(t, "cfg")
	res := waitIncomplete(t, tmpl, st, w)
	if got := specStrings(res.Missing); got != "kv.list(cfg)" {
		t.Fatalf("missing %q after the prefix was wiped, want kv.list(cfg)", got)
	}
}

// waitIncomplete applies updates until the template is incomplete.
func waitIncomplete(t *testing.T, tmpl *template.Template, st *watch.Store, w *watch.Watcher) *template.Result {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		res, err := tmpl.Execute(st)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Complete() {
			return res
		}
		select {
		case u := <-w.Updates():
			st.Apply(u)
		case <-time.After(time.Second):
		}
	}
	t.Fatal("the template stayed complete")
	return nil
}

func specStrings(specs []watch.Spec) string {
	var s []string
	for _, sp := range specs {
		s = append(s, sp.String())
	}
	return strings.Join(s, " ")
}

func agentPut(t *testing.T, url, body string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT %s: %s", url, resp.Status)
	}
}
