package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/telemetry"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// dcTmpl is issue 15's template: every datacenter, dc2's instances,
// services, nodes and a key of dc2, and a service of the local datacenter.
const dcTmpl = `{{ range $dc := datacenters }}dc {{ $dc }}
{{ end }}web@dc2:{{ range service "web@dc2" }} {{ .Address }}:{{ .Port }}{{ end }}
services@dc2:{{ range services "@dc2" }} {{ .Name }}{{ end }}
nodes@dc2:{{ range nodes "@dc2" }} {{ .Node }}{{ end }}
region={{ keyOrDefault "config/region@dc2" "unset" }}
api:{{ range service "api" }} {{ .Address }}:{{ .Port }}{{ end }}
`

// dcRules is what the templates need to read, in every datacenter.
const dcRules = `service_prefix "" { policy = "read" }
node_prefix "" { policy = "read" }
key_prefix "config/" { policy = "read" }
query_prefix "" { policy = "read" }
agent_prefix "" { policy = "read" }`

// pqBound bounds a prepared query's failover reaching the file: one poll
// interval (1 s) and a request when the machine is quiet.
const pqBound = 10 * time.Second

// pqTmpl renders a prepared query that fails over from dc1 to dc2.
const pqTmpl = `{{ with query "web-pq" }}{{ .Datacenter }}{{ range .Nodes }} {{ .Address }}{{ end }}{{ end }}
`

// seedDC registers n web instances (addresses 10.<dc>.0.x) and an api
// instance through a, with a check each, and the region key.
func seedDC(t *testing.T, a *consultest.Agent, dc int, web int, region string) {
	t.Helper()
	for i := range web {
		id := fmt.Sprint("web-", i)
		a.RegisterService(t, consultest.Service{Node: fmt.Sprintf("dc%d-node-%d", dc, i), Address: fmt.Sprintf("10.%d.0.%d", dc, i+1),
			ID: id, Name: "web", Port: 8080, Checks: []consultest.Check{{CheckID: "check-" + id, ServiceID: id}}})
	}
	a.RegisterService(t, consultest.Service{Node: fmt.Sprintf("dc%d-node-0", dc), ID: "api-0", Name: "api", Port: 9000})
	if region != "" {
		a.PutKV(t, "config/region", region)
	}
}

// TestMultipleDatacenters runs issue 15 on two WAN-joined clusters with
// ACLs on, ctpl on dc1's client agent: byte-identical to consul-template;
// dc2 frozen: dc1's changes still arrive and dc2's age shows; dc2 rebuilt
// empty: the whole last output is held until its services return; a
// prepared query fails over to dc2 and back within a poll interval.
func TestMultipleDatacenters(t *testing.T) {
	ctBin := consulTemplateBinary(t)
	dc1 := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	dc2 := consultest.StartCluster(t, consultest.Datacenter("dc2"), consultest.Servers(1), consultest.Clients(0))
	dc1.JoinWAN(t, dc2)
	client, server2 := dc1.Clients()[0], dc2.Servers()[0]
	seedDC(t, client, 1, 2, "")
	seedDC(t, server2, 2, 2, "eu")
	client.CreatePreparedQuery(t, consultest.PreparedQuery{Name: "web-pq", Service: "web", Failover: []string{"dc2"}})
	// The load balancer's least-privilege token, in both datacenters (their
	// ACL systems are separate).
	token := dc1.CreateTokenEverywhere(t, dcRules, dc2)
	dir := t.TempDir()
	main := writeFile(t, filepath.Join(dir, "main.tmpl"), dcTmpl)
	pq := writeFile(t, filepath.Join(dir, "pq.tmpl"), pqTmpl)

	t.Run("byte-identical to consul-template", func(t *testing.T) {
		ctOut, ctplOut := filepath.Join(dir, "ct"), filepath.Join(dir, "once")
		renderOnceWithCT(t, ctBin, client.Addr(), token, ctOut, map[string]string{"main": main})
		var stderr syncBuffer
		args := []string{"-consul-addr", client.Addr(), "-consul-token", token, "-once", "-once-timeout", "30s",
			"-template", main + ":" + filepath.Join(ctplOut, "main.out")}
		if code := run(t.Context(), args, &syncBuffer{}, &stderr); code != exitOK {
			t.Fatalf("ctpl -once exited %d; log:\n%s", code, stderr.String())
		}
		ct, _ := os.ReadFile(filepath.Join(ctOut, "main.out"))
		got, _ := os.ReadFile(filepath.Join(ctplOut, "main.out"))
		if !bytes.Equal(got, ct) || !bytes.Contains(got, []byte("web@dc2: 10.2.0.1:8080 10.2.0.2:8080\n")) {
			t.Fatalf("ctpl and consul-template differ:\n%s\nctpl:\n%s", diffLines(ct, got), got)
		}
	})

	out, pqOut := filepath.Join(dir, "main.out"), filepath.Join(dir, "pq.out")
	cfg := writeFile(t, filepath.Join(dir, "ctpl.yaml"), fmt.Sprintf(`consul:
  address: %s
  token: %s
  retry: {backoff: 100ms, max_backoff: 1s}
block_query_wait: 2s
metrics_addr: 127.0.0.1:0
ready_max_data_age: 3s
ready_ignore: ["@dc2"]
prepared_query_interval: 1s
templates:
  - {source: %s, destination: %s}
  - {source: %s, destination: %s}
`, client.Addr(), token, main, out, pq, pqOut))
	d := startDaemon(t, "-config", cfg)
	base := "http://" + metricsAddr(t, d.stderr.String)
	testkit.WaitFor(t, 15*time.Second, "first render", contains(out, "region=eu"))
	testkit.WaitFor(t, 15*time.Second, "the prepared query", contains(pqOut, "dc1 10.1.0.1 10.1.0.2\n"))

	t.Run("dc2 frozen", func(t *testing.T) {
		server2.Freeze(t)
		frozen := time.Now()
		client.RegisterService(t, consultest.Service{Node: "dc1-node-1", ID: "api-1", Name: "api", Port: 9001})
		took := testkit.WaitFor(t, 10*time.Second, "a dc1 change while dc2 is frozen", contains(out, "10.1.0.2:9001"))
		t.Logf("dc1 change reached the file %s after the registration", took.Round(time.Millisecond))
		var dc2 telemetry.DatacenterReport
		testkit.WaitFor(t, 30*time.Second, "dc2's age past ready_max_data_age in /status", func() bool {
			dc2 = datacenterIn(t, base, "dc2")
			return dc2.Failing > 0 && dc2.AgeSeconds > 3
		})
		t.Logf("dc2 frozen %s ago: %s (%d of %d queries failing)", time.Since(frozen).Round(time.Second), dc2.Stale, dc2.Failing, dc2.Queries)
		if !strings.HasPrefix(dc2.Stale, "dc2 data ") || !dc2.ReadyIgnored {
			t.Errorf("dc2 in /status: %+v; want its stale age, ignored for readiness", dc2)
		}
		if code, body := httpGet(t, base+"/readyz"); code != 200 {
			t.Errorf("/readyz = %d with ready_ignore: [\"@dc2\"]:\n%s", code, body)
		}
		_, metrics := httpGet(t, base+"/metrics")
		if !strings.Contains(metrics, `ctpl_datacenter_failing_queries{datacenter="dc2"}`) {
			t.Error("/metrics lacks the datacenter's failing queries")
		}
		client.RegisterService(t, consultest.Service{Node: "dc1-node-0", ID: "api-2", Name: "api", Port: 9002})
		testkit.WaitFor(t, 10*time.Second, "a second dc1 change", contains(out, "10.1.0.1:9002"))
		testkit.WaitFor(t, 10*time.Second, "the stale render logged", func() bool {
			return logHas(d.stderr.String(), "rendering with data older than ready_max_data_age", `stale="dc2 data `)
		})
		if !logHas(d.stderr.String(), "datacenter's data is aging", "datacenter=dc2") {
			t.Errorf("the outage of dc2 was not logged:\n%s", d.stderr)
		}
		server2.Thaw(t)
		testkit.WaitFor(t, 30*time.Second, "dc2's recovery logged", func() bool {
			return logHas(d.stderr.String(), "datacenter's data is fresh again", "datacenter=dc2", "down_for=")
		})
	})

	t.Run("dc2 restarted empty", func(t *testing.T) {
		testkit.WaitFor(t, 10*time.Second, "dc2 fresh", func() bool { return datacenterIn(t, base, "dc2").Failing == 0 })
		before, _ := os.ReadFile(out)
		server2.Kill()
		server2.StartEmpty(t)
		dc1.JoinWAN(t, dc2)
		dc2.CreateTokenWithSecret(t, dcRules, token) // the rebuilt datacenter lost it
		testkit.WaitFor(t, 30*time.Second, "held", func() bool {
			st := templateIn(t, base, main)
			return st.State == "held" && strings.Contains(st.Reason, "datacenter dc2's catalog came back empty")
		})
		executed := templateIn(t, base, main).LastRender
		client.RegisterService(t, consultest.Service{Node: "dc1-node-0", ID: "api-3", Name: "api", Port: 9003})
		testkit.WaitFor(t, 10*time.Second, "the dc1 change executed", func() bool {
			st := templateIn(t, base, main)
			return st.LastRender.After(executed) && st.State == "held"
		})
		if after, _ := os.ReadFile(out); !bytes.Equal(after, before) {
			t.Fatalf("the file changed while dc2 is held:\n%s\nbefore:\n%s\nafter:\n%s", diffLines(before, after), before, after)
		}
		seedDC(t, server2, 2, 1, "us")
		// Each query answers on its own: the key may reach the file a render
		// before the api registration made just before it (as with
		// consul-template), so the test waits for every line.
		back := []string{"web@dc2: 10.2.0.1:8080\n", "region=us\n", "services@dc2: api consul web\n",
			"api: 10.1.0.1:9000 10.1.0.1:9002 10.1.0.1:9003 10.1.0.2:9001\n"}
		testkit.WaitFor(t, 30*time.Second, "dc2's services and key back, with the held dc1 change", func() bool {
			b, _ := os.ReadFile(out)
			return !slices.ContainsFunc(back, func(line string) bool { return !bytes.Contains(b, []byte(line)) })
		})
		testkit.WaitFor(t, 10*time.Second, "ok", func() bool { return templateIn(t, base, main).State == "ok" })
	})

	t.Run("prepared query fails over to dc2 and back", func(t *testing.T) {
		for i := range 2 {
			client.SetCheck(t, fmt.Sprintf("dc1-node-%d", i), fmt.Sprint("check-web-", i), fmt.Sprint("web-", i), "critical")
		}
		// Within one poll interval (1 s) and a request: measured 0.1–1 s,
		// logged; the bound leaves room for a loaded CI machine under -race.
		took := testkit.WaitFor(t, pqBound, "failover", contains(pqOut, "dc2 10.2.0.1\n"))
		t.Logf("failover reached the file in %s", took.Round(time.Millisecond))
		client.SetCheck(t, "dc1-node-0", "check-web-0", "web-0", "passing")
		took = testkit.WaitFor(t, pqBound, "back to dc1", contains(pqOut, "dc1 10.1.0.1\n"))
		t.Logf("back to dc1 in %s", took.Round(time.Millisecond))
	})
	d.running(t)
}

// statusOf reads the daemon's /status.
func statusOf(t *testing.T, base string) telemetry.Report {
	t.Helper()
	_, body := httpGet(t, base+"/status")
	var r telemetry.Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/status: %v", err)
	}
	return r
}

func datacenterIn(t *testing.T, base, name string) telemetry.DatacenterReport {
	t.Helper()
	return find(statusOf(t, base).Datacenters, func(d telemetry.DatacenterReport) bool { return d.Name == name })
}

func templateIn(t *testing.T, base, source string) telemetry.TemplateReport {
	t.Helper()
	return find(statusOf(t, base).Templates, func(r telemetry.TemplateReport) bool { return r.Source == source })
}

// find returns the first element of list that match accepts, or the zero
// value.
func find[T any](list []T, match func(T) bool) T {
	for _, v := range list {
		if match(v) {
			return v
		}
	}
	var zero T
	return zero
}
