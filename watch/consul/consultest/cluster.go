package consultest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"
)

// retryInterval is how often an agent of a cluster retries joining the
// servers (Consul's default, 30 s, would stall a start-up whose first
// attempt came before the other servers listened).
const retryInterval = "250ms"

// ClusterOption configures [StartCluster].
type ClusterOption func(*clusterOptions)

type clusterOptions struct {
	servers, clients int
	dc               string
	agent            options // given to every agent
}

// Servers sets the number of servers, 1 by default; it is also their
// bootstrap_expect.
func Servers(n int) ClusterOption { return func(o *clusterOptions) { o.servers = n } }

// Clients sets the number of client agents, 1 by default; 0 is allowed.
func Clients(n int) ClusterOption { return func(o *clusterOptions) { o.clients = n } }

// Datacenter names the cluster's datacenter, "dc1" by default.
func Datacenter(dc string) ClusterOption { return func(o *clusterOptions) { o.dc = dc } }

// ClusterHTTPS makes every agent also serve its API over HTTPS, each with
// its own self-signed certificate as with [WithHTTPS]; see [Agent.HTTPSURL]
// and [Agent.CAFile].
func ClusterHTTPS() ClusterOption { return func(o *clusterOptions) { o.agent.https = true } }

// ClusterHCL passes extra configuration to every agent through -hcl, after
// the harness's own, so it can override it. It may be given several times.
func ClusterHCL(hcl string) ClusterOption {
	return func(o *clusterOptions) { o.agent.hcl = append(o.agent.hcl, hcl) }
}

// Cluster is a datacenter of Consul servers and client agents, every one a
// process on 127.0.0.1 owned by one test, with ACLs on (default policy
// deny). Its agents are ordinary [Agent] values whose helpers send the
// management token.
type Cluster struct {
	dc      string
	token   string
	servers []*Agent
	clients []*Agent
}

// member is an agent's part in a cluster.
type member struct {
	server  bool
	expect  int // bootstrap_expect of a server
	dc      string
	dataDir string
	join    []string // serf LAN addresses to retry-join
	token   string   // management token, also the agent's own token
}

// args returns the command-line flags that set the agent's mode: -dev for
// a dev agent (m == nil).
func (m *member) args() []string {
	if m == nil {
		return []string{"-dev"}
	}
	args := []string{"-data-dir=" + m.dataDir, "-datacenter=" + m.dc, "-retry-interval=" + retryInterval}
	if m.server {
		args = append(args, "-server", "-bootstrap-expect="+strconv.Itoa(m.expect))
	}
	for _, addr := range m.join {
		args = append(args, "-retry-join="+addr)
	}
	return args
}

// hcl returns the -hcl flags of a cluster member: fast Raft timing,
// Prometheus metrics (see [Agent.Metrics]) and ACLs. Only servers take the initial management token; every agent uses it
// as its agent token, to register its own node.
func (m *member) hcl() []string {
	if m == nil {
		return nil
	}
	tokens := fmt.Sprintf("agent = %q", m.token)
	if m.server {
		tokens += fmt.Sprintf(" initial_management = %q", m.token)
	}
	return []string{
		"-hcl=performance { raft_multiplier = 1 }",
		"-hcl=" + prometheusHCL,
		"-hcl=acl { enabled = true default_policy = \"deny\" down_policy = \"extend-cache\" " +
			"enable_token_persistence = true tokens { " + tokens + " } }",
	}
}

// StartCluster starts a datacenter of servers and client agents for the
// test: the servers first, all at once, then the client agents. It returns
// once a leader is elected and every agent knows it, has its node in the
// catalog and accepts a catalog write, failing the test after 30 s per
// stage. Every agent is killed when the test ends (all in parallel), and
// the tail of every agent's log is printed if the test failed. Like
// [Start], it skips the test when no Consul binary is found.
func StartCluster(t TB, opts ...ClusterOption) *Cluster {
	t.Helper()
	bin := requireBinary(t)
	if bin == "" {
		return nil // reached only when t's Skip or Fatal does not stop the goroutine
	}
	o := clusterOptions{servers: 1, clients: 1, dc: "dc1"}
	for _, opt := range opts {
		opt(&o)
	}
	if o.servers < 1 || o.clients < 0 {
		t.Fatalf("consultest: start cluster: %d servers and %d clients; want at least one server", o.servers, o.clients)
	}
	token, err := newUUID()
	if err != nil {
		t.Fatalf("consultest: start cluster: %v", err)
	}
	c := &Cluster{dc: o.dc, token: token}
	prefix := fmt.Sprintf("consultest-%d-%d-%s", os.Getpid(), nodeSeq.Add(1), o.dc)
	for i := range o.servers {
		m := &member{server: true, expect: o.servers, dc: o.dc, token: token}
		c.servers = append(c.servers, newAgent(t, bin, fmt.Sprintf("%s-server-%d", prefix, i), o.agent, m))
	}
	for i := range o.clients {
		m := &member{dc: o.dc, token: token}
		c.clients = append(c.clients, newAgent(t, bin, fmt.Sprintf("%s-client-%d", prefix, i), o.agent, m))
	}
	// Cleanups run last-registered first: kill the agents, then print
	// their logs; the directories, created above, are removed after.
	t.Cleanup(func() {
		if t.Failed() {
			for _, a := range c.agents() {
				t.Logf("consultest: last lines of the log of %s (%s):\n%s", a.node, a.logPath, a.logTail())
			}
		}
	})
	t.Cleanup(c.kill)
	began := time.Now()
	if err := c.startServers(); err != nil {
		t.Fatalf("consultest: start cluster %s: %v", c.dc, err)
	}
	serversUp := time.Since(began)
	if err := c.startClients(); err != nil {
		t.Fatalf("consultest: start cluster %s: %v", c.dc, err)
	}
	t.Logf("consultest: cluster %s of %d servers and %d client agents ready in %s (servers in %s)",
		c.dc, o.servers, o.clients, time.Since(began).Round(time.Millisecond), serversUp.Round(time.Millisecond))
	return c
}

// startServers picks every server's ports, so that each can be told where
// the others are, and starts them all at once: with bootstrap_expect
// equal to their number, none has a leader until all have joined.
func (c *Cluster) startServers() error {
	for _, s := range c.servers {
		var err error
		if s.ports, err = pickPorts(); err != nil {
			return err
		}
	}
	for i, s := range c.servers {
		others := slices.Delete(slices.Clone(c.servers), i, i+1)
		s.member.join = serfLANAddrs(others)
	}
	return startAll(c.servers)
}

// startClients starts the client agents, told to join every server.
func (c *Cluster) startClients() error {
	for _, a := range c.clients {
		a.member.join = serfLANAddrs(c.servers)
	}
	return startAll(c.clients)
}

// startAll starts agents in parallel and waits until all are ready.
func startAll(agents []*Agent) error {
	errs := make([]error, len(agents))
	var wg sync.WaitGroup
	for i, a := range agents {
		wg.Go(func() {
			if err := a.startOnFreePorts(); err != nil {
				errs[i] = fmt.Errorf("agent %s: %w", a.node, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func serfLANAddrs(agents []*Agent) []string {
	addrs := make([]string, 0, len(agents))
	for _, a := range agents {
		addrs = append(addrs, net.JoinHostPort("127.0.0.1", strconv.Itoa(a.ports.serfLAN)))
	}
	return addrs
}

// kill kills every agent, all in parallel. A graceful stop would gain
// nothing at the end of a test and costs seconds: a client agent whose
// servers are gone takes about 3.5 s to leave.
func (c *Cluster) kill() {
	var wg sync.WaitGroup
	for _, a := range c.agents() {
		wg.Go(a.Kill)
	}
	wg.Wait()
}

// Servers returns the cluster's servers, in start order.
func (c *Cluster) Servers() []*Agent { return slices.Clone(c.servers) }

// Clients returns the cluster's client agents, in start order.
func (c *Cluster) Clients() []*Agent { return slices.Clone(c.clients) }

// Datacenter returns the name of the cluster's datacenter.
func (c *Cluster) Datacenter() string { return c.dc }

// ManagementToken returns the cluster's bootstrap token (acl.tokens.
// initial_management), which every agent also uses as its agent token and
// its helpers send.
func (c *Cluster) ManagementToken() string { return c.token }

func (c *Cluster) agents() []*Agent { return slices.Concat(c.servers, c.clients) }

// Leader returns the server that is leader now, as the first running
// server reports it, failing the test when none is known.
func (c *Cluster) Leader(t TB) *Agent {
	t.Helper()
	for _, s := range c.servers {
		if !s.running() {
			continue
		}
		ctx, cancel := context.WithTimeout(t.Context(), probeTimeout)
		addr, err := s.leaderAddr(ctx)
		cancel()
		if err != nil {
			t.Fatalf("consultest: leader of %s: server %s: %v", c.dc, s.node, err)
		}
		if l := c.serverAt(addr); l != nil {
			return l
		}
		t.Fatalf("consultest: leader of %s: %s is none of the servers", c.dc, addr)
	}
	t.Fatalf("consultest: leader of %s: no server is running", c.dc)
	return nil
}

// WaitLeader waits, up to 30 s, until the running servers agree on a
// leader that is running and every running client agent reports the same
// one, and returns it.
func (c *Cluster) WaitLeader(t TB) *Agent {
	t.Helper()
	var leader *Agent
	err := poll(t.Context(), readyTimeout, func(ctx context.Context) error {
		var err error
		leader, err = c.agreedLeader(ctx)
		return err
	})
	if err != nil {
		t.Fatalf("consultest: wait for a leader of %s: %v", c.dc, err)
	}
	return leader
}

// agreedLeader returns the leader every running agent reports.
func (c *Cluster) agreedLeader(ctx context.Context) (*Agent, error) {
	agreed := ""
	for _, a := range c.agents() {
		if !a.running() {
			continue
		}
		addr, err := a.leaderAddr(ctx)
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", a.node, err)
		}
		if agreed != "" && addr != agreed {
			return nil, fmt.Errorf("agents disagree on the leader: %s and %s (%s)", agreed, addr, a.node)
		}
		agreed = addr
	}
	l := c.serverAt(agreed)
	if l == nil || !l.running() {
		return nil, fmt.Errorf("leader %q is not a running server", agreed)
	}
	return l, nil
}

// serverAt returns the server whose RPC address is addr, or nil.
func (c *Cluster) serverAt(addr string) *Agent {
	for _, s := range c.servers {
		if net.JoinHostPort("127.0.0.1", strconv.Itoa(s.ports.server)) == addr {
			return s
		}
	}
	return nil
}

// JoinWAN joins the servers of c and other over the WAN and waits, up to
// 30 s, until every running agent of both lists both datacenters. The two
// datacenters keep separate ACL systems; so that each cluster's management
// token works in requests forwarded to the other (?dc=), JoinWAN creates in
// each a management token with the other's secret. Tokens made by
// [Cluster.CreateToken] stay valid in their own datacenter only.
func (c *Cluster) JoinWAN(t TB, other *Cluster) {
	t.Helper()
	c.mirrorToken(t, other)
	other.mirrorToken(t, c)
	s, o := c.runningServer(t), other.runningServer(t)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(o.ports.serfWAN))
	s.call(t, http.MethodPut, "/v1/agent/join/"+url.PathEscape(addr)+"?wan=1", nil)
	want := []string{c.dc, other.dc}
	slices.Sort(want)
	err := poll(t.Context(), readyTimeout, func(ctx context.Context) error {
		for _, a := range slices.Concat(c.agents(), other.agents()) {
			if err := a.listsDatacenters(ctx, want); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("consultest: join %s and %s over the WAN: %v", c.dc, other.dc, err)
	}
}

// listsDatacenters checks that a running agent lists exactly want.
func (a *Agent) listsDatacenters(ctx context.Context, want []string) error {
	if !a.running() {
		return nil
	}
	var got []string
	if err := a.getJSON(ctx, "/v1/catalog/datacenters", &got); err != nil {
		return err
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		return fmt.Errorf("agent %s lists datacenters %v, want %v", a.node, got, want)
	}
	return nil
}

// runningServer returns a running server, preferring the first.
func (c *Cluster) runningServer(t TB) *Agent {
	t.Helper()
	for _, s := range c.servers {
		if s.running() {
			return s
		}
	}
	t.Fatalf("consultest: cluster %s: no server is running", c.dc)
	return nil
}

// poll calls probe every pollInterval, each call bounded by probeTimeout,
// until it returns nil, and returns its last error when ctx ends or timeout
// passes first.
func poll(ctx context.Context, timeout time.Duration, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		pctx, pcancel := context.WithTimeout(ctx, probeTimeout)
		err := probe(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("not done after %s: %w", timeout, err)
		case <-tick.C:
		}
	}
}
