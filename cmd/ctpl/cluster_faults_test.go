package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ctpl/ctpl/internal/testkit"
	"github.com/ctpl/ctpl/watch/consul/consultest"
)

// clusterFaultTmpl lists every instance of two services with its status:
// a fault can neither add nor remove a line, only a flip can change one.
const clusterFaultTmpl = `{{ range service "app-00|any" }}{{ .ID }} {{ .Status }}
{{ end }}{{ range service "app-01|any" }}{{ .ID }} {{ .Status }}
{{ end }}# end
`

var completeFaultFile = regexp.MustCompile(`\A(app-0[01]-[01] (passing|critical)\n){4}# end\n\z`)

// healAfter is the convergence goal once the cluster is whole again.
const healAfter = 2 * time.Second

// flipper flips app-00-0's check through whichever client agent is up and
// waits for the file to show it.
type flipper struct {
	t      *testing.T
	client *consultest.Agent
	out    string
	status string
}

// flip writes the opposite status and returns how long the file took to
// show it.
func (f *flipper) flip(within time.Duration, what string) time.Duration {
	f.t.Helper()
	f.status = map[string]string{"passing": "critical", "critical": "passing"}[f.status]
	f.client.SetCheck(f.t, "lb-node-0", "check-app-00-0", "app-00-0", f.status)
	took := testkit.WaitFor(f.t, within, what, contains(f.out, "app-00-0 "+f.status+"\n"))
	f.t.Logf("%s: the file converged %v after the write", what, took)
	return took
}

// TestClusterFaults runs ctpl through the client agent of a three-server
// cluster with ACLs on, through the faults of a real cluster: the leader
// killed, every server restarted one by one, the client agent restarted and
// stopped for 30 s, and the cluster without a leader. The file is never
// emptied, shrunk or torn, ctpl never exits, and after each fault a change
// reaches the file within 2 s of the cluster healing.
func TestClusterFaults(t *testing.T) {
	c := consultest.StartCluster(t, consultest.Servers(3), consultest.Clients(1))
	client := c.Clients()[0]
	seedACLRegistry(t, client, 2)
	token := c.CreateToken(t, appRules)
	d, out := startOnCluster(t, t.TempDir(), fmt.Sprintf("  address: %s\n  token: %s\n", client.Addr(), token), clusterFaultTmpl)
	testkit.WaitFor(t, 15*time.Second, "first render", func() bool {
		b, _ := os.ReadFile(out)
		return completeFaultFile.Match(b)
	})
	mon := monitorFile(t, out, completeFaultFile.Match)
	f := &flipper{t: t, client: client, out: out, status: "critical"} // (0+0)%5 == 0: seeded critical
	f.flip(healAfter, "before any fault")

	t.Run("leader killed", func(t *testing.T) {
		old := c.Leader(t)
		old.Kill()
		if now := c.WaitLeader(t); now == old {
			t.Fatal("the killed server is still the leader")
		}
		f.flip(healAfter, "new leader")
		old.StartAgain(t)
		c.WaitLeader(t)
	})
	t.Run("rolling restart", func(t *testing.T) {
		for i, s := range c.Servers() {
			s.Stop()
			s.StartAgain(t)
			c.WaitLeader(t)
			f.flip(healAfter, fmt.Sprintf("server %d restarted", i))
		}
	})
	t.Run("client agent restarted", func(t *testing.T) {
		client.Stop()
		client.StartAgain(t)
		f.flip(healAfter, "client agent back")
	})
	t.Run("no cluster leader", func(t *testing.T) {
		leader := c.Leader(t)
		var stopped []*consultest.Agent
		for _, s := range c.Servers() {
			if s != leader {
				s.Stop()
				stopped = append(stopped, s)
			}
		}
		testkit.WaitFor(t, 30*time.Second, "the last server loses its leadership", func() bool { return !hasLeader(leader) })
		d.running(t)
		for _, s := range stopped {
			s.StartAgain(t)
		}
		c.WaitLeader(t)
		f.flip(healAfter, "quorum back")
	})
	t.Run("client agent stopped 30s", func(t *testing.T) {
		outage := 30 * time.Second
		if testing.Short() {
			outage = 3 * time.Second
		}
		failures := strings.Count(d.stderr.String(), "query failing")
		client.Stop()
		testkit.WaitFor(t, 10*time.Second, "the outage shows", func() bool {
			return strings.Count(d.stderr.String(), "query failing") > failures
		})
		time.Sleep(outage) // the fault's length, not a synchronisation
		d.running(t)
		client.StartAgain(t)
		f.flip(healAfter, "client agent back after 30 s")
	})
	mon.check(t)
	d.running(t)
}

// hasLeader reports whether a server knows a leader; an error is no.
func hasLeader(a *consultest.Agent) bool {
	resp, err := http.Get(a.URL() + "/v1/status/leader")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.Trim(strings.TrimSpace(string(b)), `"`) != ""
}

// TestFollowersThroughClientAgent runs more health queries than the
// connection budget holds, through a client agent with ACLs on: most
// queries follow the change detectors, and their re-reads wait on the
// agent's streamed views. Every flip reaches the file.
func TestFollowersThroughClientAgent(t *testing.T) {
	c := consultest.StartCluster(t, consultest.Servers(1), consultest.Clients(1))
	client := c.Clients()[0]
	seedACLRegistry(t, client, 30)
	token := c.CreateToken(t, appRules)
	dir := t.TempDir()
	d, out := startOnCluster(t, dir, fmt.Sprintf("  address: %s\n  token: %s\n  max_conns: 12\n", client.Addr(), token),
		"{{ range services }}{{ range service (print .Name \"|any\") }}{{ .ID }} {{ .Status }}\n{{ end }}{{ end }}")
	testkit.WaitFor(t, 15*time.Second, "first render", contains(out, "app-29-1 "))
	status := map[string]string{}
	for i := range 30 {
		for j := range 2 {
			status[fmt.Sprintf("app-%02d-%d", i, j)] = map[bool]string{true: "critical", false: "passing"}[(i+j)%5 == 0]
		}
	}
	for k := range 12 {
		id := fmt.Sprintf("app-%02d-%d", (k*7)%30, k%2)
		i, j := (k*7)%30, k%2
		status[id] = map[string]string{"passing": "critical", "critical": "passing"}[status[id]]
		client.SetCheck(t, fmt.Sprintf("lb-node-%d", (i+j)%4), "check-"+id, id, status[id])
		took := testkit.WaitFor(t, 5*time.Second, "flip of "+id, contains(out, id+" "+status[id]+"\n"))
		t.Logf("flip %d (%s %s) reached the file in %v", k, id, status[id], took)
	}
	if !strings.Contains(d.stderr.String(), "starting the change detectors") {
		t.Errorf("the queries did not follow the detectors (the test would not test them); log:\n%s", d.stderr)
	}
	d.running(t)

	d.cancel() // it holds the destination directory
	d.done <- <-d.done

	// The same config with -once: what the detectors cost a long-running
	// agent is no warning for a one-shot render, nor is their stop. (The
	// token lacks agent:read: that warning is right.)
	var stderr syncBuffer
	code := run(t.Context(), []string{"-once", "-config", filepath.Join(dir, "ctpl.yaml")}, io.Discard, &stderr)
	for l := range strings.Lines(stderr.String()) {
		if code != exitOK || strings.Contains(l, "level=WARN") && !strings.Contains(l, "agent:read") {
			t.Errorf("-once: exit %d, %s", code, l)
		}
	}
}
