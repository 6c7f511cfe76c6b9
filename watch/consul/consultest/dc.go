package consultest

import (
	"net/http"
	"os"
	"syscall"
)

// PreparedQuery is a prepared query to create with
// [Agent.CreatePreparedQuery].
type PreparedQuery struct {
	// Name names the query; required.
	Name string
	// Service is the service it looks up; required.
	Service string
	// Failover lists the datacenters tried, in order, when the query's
	// own has no healthy instance.
	Failover []string
	// Tags keeps only instances with every tag ("!tag" excludes).
	Tags []string
	// Template makes the query a name_prefix_match template: Name is then
	// a prefix, and Service may use ${name.full}, ${name.prefix} and
	// ${name.suffix}.
	Template bool
}

// CreatePreparedQuery creates a prepared query in the agent's datacenter
// and returns its ID.
func (a *Agent) CreatePreparedQuery(t TB, q PreparedQuery) string {
	t.Helper()
	type failover struct{ Datacenters []string }
	type service struct {
		Service  string
		Failover failover
		Tags     []string `json:",omitempty"`
	}
	type template struct{ Type string }
	body := struct {
		Name     string
		Template *template `json:",omitempty"`
		Service  service
	}{Name: q.Name, Service: service{Service: q.Service, Failover: failover{Datacenters: q.Failover}, Tags: q.Tags}}
	if q.Template {
		body.Template = &template{Type: "name_prefix_match"}
	}
	resp := a.call(t, http.MethodPost, "/v1/query", encodeJSON(t, "POST /v1/query", body))
	var out struct{ ID string }
	decodeJSON(t, "POST /v1/query", resp.body, &out)
	return out.ID
}

// Freeze stops the agent's process with SIGSTOP, as a hung machine would:
// its sockets stay open and nothing answers. [Agent.Thaw] resumes it; the
// test's cleanup resumes it too, before the agent is killed.
func (a *Agent) Freeze(t TB) {
	t.Helper()
	pid := a.PID()
	if pid == 0 {
		t.Fatalf("consultest: freeze agent %s: it is not running", a.node)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatalf("consultest: freeze agent %s: %v", a.node, err)
	}
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGCONT) })
}

// Thaw resumes an agent stopped by [Agent.Freeze].
func (a *Agent) Thaw(t TB) {
	t.Helper()
	if pid := a.PID(); pid == 0 || syscall.Kill(pid, syscall.SIGCONT) != nil {
		t.Fatalf("consultest: thaw agent %s: it is not running", a.node)
	}
}

// StartEmpty starts a stopped agent of a cluster again on its ports with
// an empty data directory, as a server rebuilt from nothing: its catalog,
// KV store, ACL tokens and WAN membership are gone (the cluster's
// management token is back, from the configuration). Join it over the WAN
// again with [Cluster.JoinWAN]. It waits until the agent is ready, as
// [Agent.StartAgain] does.
func (a *Agent) StartEmpty(t TB) {
	t.Helper()
	if a.member == nil {
		t.Fatalf("consultest: start agent %s empty: a dev agent starts empty anyway; use Restart", a.node)
	}
	if a.running() {
		t.Fatalf("consultest: start agent %s empty: it is running", a.node)
	}
	if err := os.RemoveAll(a.member.dataDir); err != nil {
		t.Fatalf("consultest: start agent %s empty: %v", a.node, err)
	}
	if err := a.start(); err != nil {
		t.Fatalf("consultest: start agent %s empty: %v", a.node, err)
	}
}

// CreateTokenEverywhere creates, as [Cluster.CreateToken] does, a policy
// with rules and a token linked to it in c and in each of others (their ACL
// systems are separate), all with the same secret, which it returns once
// every running server of each knows it: a least-privilege token valid in
// requests forwarded to any of the datacenters.
func (c *Cluster) CreateTokenEverywhere(t TB, rules string, others ...*Cluster) string {
	t.Helper()
	secret := c.CreateToken(t, rules)
	for _, o := range others {
		o.CreateTokenWithSecret(t, rules, secret)
	}
	return secret
}

// CreateTokenWithSecret creates a policy with rules and a token linked to
// it whose secret is secret (say, a token of another datacenter, or one a
// datacenter rebuilt empty has lost), and returns once every running server
// knows it.
func (c *Cluster) CreateTokenWithSecret(t TB, rules, secret string) {
	t.Helper()
	c.createToken(t, rules, secret)
}
