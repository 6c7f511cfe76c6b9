package examples_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// evilIP is where every hostile registration points: no legitimate entry of
// any target's configuration may name it.
const evilIP = "127.0.0.66"

// registerHostile registers instances whose names, tags, metadata or
// addresses try to inject directives into an nginx, HAProxy or dnsmasq
// configuration, all pointing at the evil backend. Then it registers the
// legitimate service "odd" (backend c, with tags and metadata full of config
// syntax) and "sentinel" (backend a): once a target serves sentinel, ctpl
// has rendered from a catalog holding every hostile service before it.
func (f *fleet) registerHostile(t *testing.T) {
	t.Helper()
	e := f.evil
	inject := "server " + evilIP + ":1;"
	web := func(node, id, serviceAddr string, tags []string, meta map[string]string) consultest.Service {
		if tags == nil {
			tags = []string{"http"}
		}
		return consultest.Service{
			Node: node, Address: evilIP, ServiceAddress: serviceAddr, ID: id, Name: "web", Port: e.port,
			Tags: tags, Meta: meta,
			Checks: []consultest.Check{{CheckID: "check-" + id, ServiceID: id, Status: "passing"}},
		}
	}
	hostile := []consultest.Service{
		// Fields the templates use, holding config syntax.
		web("evil-1", "evil-1", evilIP+":1; "+inject, nil, nil),
		web(`evil"2`, "evil-2", "", nil, nil),
		web("evil-3", "evil-3 }", "", nil, nil),
		web("evil-4{", "evil-4", "", nil, nil),
		web("evil-5", "evil-5", evilIP+" evil.service.consul", nil, nil),
		web("evil-6", "evil-6';", "", nil, nil),
		// Control characters anywhere: ctpl leaves the instance out.
		web("evil-7", "evil-7", "", []string{"http", "x\n" + inject}, nil),
		web("evil-8", "evil-8", "", nil, map[string]string{"weight": "1\n}\n" + inject}),
		web("evil\r\n9", "evil-9", "", nil, nil),
		web("evil-10", "evil-10", evilIP+"\n"+evilIP, nil, nil),
	}
	for _, name := range []string{
		"evil;", "evil}", "evil{", `evil"`, "evil'", "evil\nupstream", "evil x", "Evil",
		"evil.service.consul " + evilIP, "evil\x00",
	} {
		hostile = append(hostile, consultest.Service{
			Node: "evil-node", Address: evilIP, ID: "evil-" + fmt.Sprint(len(hostile)), Name: name,
			Port: e.port, Tags: []string{"http"},
		})
	}
	for _, s := range hostile {
		f.agent.RegisterService(t, s)
	}
	// Invalid UTF-8 can only reach Consul as raw bytes (an encoder would
	// replace it); Consul may store it or replace it itself.
	raw := func(node, service, tag string) []byte {
		return fmt.Appendf(nil, `{"Node":"%s","Address":"%s","Service":{"ID":"%s","Service":"%s","Tags":["http","%s"],"Port":%d}}`,
			node, evilIP, node, service, tag, e.port)
	}
	for _, body := range [][]byte{
		raw("evil-11", "web", "\xff\xfe"),
		raw("evil-12", "evil\xc3\x28", "x"),
		raw("evil\xff13", "web", "x"),
	} {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, f.agent.URL()+"/v1/catalog/register", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		answer, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		t.Logf("invalid UTF-8 registration: Consul answered %s %.100q", resp.Status, answer)
	}
	// Legitimate despite its tags and metadata: nothing of them is written.
	c := f.web[2]
	f.agent.RegisterService(t, consultest.Service{
		Node: "node-c", Address: c.ip, ID: "odd-c", Name: "odd", Port: c.port,
		Tags: []string{"http", `x;} server ` + evilIP + `:1; {"'`}, Meta: map[string]string{"k": `};{"'`},
		Checks: []consultest.Check{{CheckID: "check-odd-c", ServiceID: "odd-c", Status: "passing"}},
	})
	f.register(t, "sentinel", f.web[0], "passing")
}
