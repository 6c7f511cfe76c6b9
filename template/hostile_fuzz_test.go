package template_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctpl/ctpl/template"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// hostileTemplate prints registry strings raw, the way most existing
// consul-template templates do.
const hostileTemplate = `upstream web {
{{- range service "web" }}
  server {{ .Address }}:{{ .Port }}; # {{ .ID }} {{ .Node }} {{ .Tags | join "," }} {{ index .ServiceMeta "k" }} {{ index .NodeMeta "rack" }}
{{- end }}
}
`

// FuzzHostileRegistryStrings registers, through a Consul HTTP answer, a
// legitimate instance and one whose strings are fuzzed, fetches it with the
// real Consul adapter under the default untrusted-strings policy and renders
// it: nothing panics, no control character other than the template's own
// newlines reaches the output, and no extra line appears.
func FuzzHostileRegistryStrings(f *testing.F) {
	for _, s := range []string{"http", "a\nserver 6.6.6.6:80;", "x\r\n}", "\x00", "\x1b[2J", "ok;{}", "\"'", "\xff\xfe", "\u2028"} {
		f.Add(s, "10.0.0.9", "n9", "v")
	}
	var (
		mu   sync.Mutex
		body []byte
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("X-Consul-Index", "7")
		w.Write(body)
	}))
	f.Cleanup(srv.Close)
	c, err := consul.New(consul.Options{Address: srv.URL, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	spec, _ := watch.ParseService("web")
	q, err := c.Query(spec)
	if err != nil {
		f.Fatal(err)
	}
	tmpl, err := template.Parse("hostile.tmpl", hostileTemplate, template.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tag, address, node, meta string) {
		mu.Lock()
		body = hostileAnswer(t, tag, address, node, meta)
		mu.Unlock()
		res, err := q.Fetch(t.Context(), watch.FetchOptions{Wait: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		instances := res.Value.([]*watch.HealthService)
		out, err := tmpl.Execute(mapData{spec.String(): instances})
		if err != nil {
			t.Fatal(err)
		}
		for i, b := range out.Output {
			if (b < 0x20 && b != '\n') || b == 0x7f {
				t.Fatalf("control byte %#x at %d in %q", b, i, out.Output)
			}
		}
		if lines := strings.Count(string(out.Output), "\n"); lines != 2+len(instances) || len(instances) == 0 {
			t.Fatalf("%d lines for %d instances:\n%s", lines, len(instances), out.Output)
		}
		if !strings.Contains(string(out.Output), "server 10.0.0.1:80; # good n1 http ok r1\n") {
			t.Fatalf("the legitimate instance is missing:\n%s", out.Output)
		}
	})
}

// hostileAnswer is /v1/health/service/web with a good instance and one
// carrying the fuzzed strings.
func hostileAnswer(t *testing.T, tag, address, node, meta string) []byte {
	type svc struct {
		ID, Service, Address string
		Port                 int
		Tags                 []string
		Meta                 map[string]string
	}
	type nd struct {
		Node, Address string
		Meta          map[string]string
	}
	type entry struct {
		Node    nd
		Service svc
		Checks  []any
	}
	b, err := json.Marshal([]entry{
		{Node: nd{Node: "n1", Address: "10.0.0.1", Meta: map[string]string{"rack": "r1"}},
			Service: svc{ID: "good", Service: "web", Port: 80, Tags: []string{"http"}, Meta: map[string]string{"k": "ok"}}},
		{Node: nd{Node: node, Address: "10.0.0.2", Meta: map[string]string{"rack": meta}},
			Service: svc{ID: "fuzzed", Service: "web", Address: address, Port: 80, Tags: []string{tag, "http"}, Meta: map[string]string{"k": meta, meta: "v"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
