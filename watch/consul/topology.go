package consul

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
)

// In production ctpl talks to the client agent on its own host, which
// forwards every read it cannot answer itself to the servers. What such an
// agent answers itself is cheap for the servers: a health read with
// ?cached (or with an index) is served from the agent's streamed view of the
// service (use_streaming_backend, the default since Consul 1.10), which
// costs the servers one event per change for every client agent subscribed,
// however many reads the agent serves from it. Every other read is a
// server RPC. So, through a client agent, every health read of ctpl asks
// for ?cached: first reads, long polls and followers' re-reads. The change
// detectors and probes (whole-table queries that no agent caches) still
// reach the servers. A server (or a dev agent) answers every read itself,
// so there ctpl keeps plain reads, whose answers carry the per-service
// index the followers' proof rests on without a view in between.

// viewWait bounds a follower's re-read from a streamed view. The view may
// lag the servers by the time an event takes to arrive: a re-read of a
// service named by a detector therefore asks with the follower's index, so
// it returns as soon as the view holds the change, and gives up after
// viewWait if there was none to see.
const viewWait = time.Second

// Agent describes the Consul agent ctpl talks to, as /v1/agent/self says.
type Agent struct {
	// Known is false when /v1/agent/self could not be read (a token without
	// agent read): ctpl then assumes a client agent, as in production.
	Known bool
	// Server is true for a server or a dev agent.
	Server bool
	// Streaming is true when the agent serves health reads from streamed
	// views (use_streaming_backend).
	Streaming                 bool
	Node, Datacenter, Version string
	// MaxConnsPerClient is the agent's limits.http_max_conns_per_client
	// (0: unknown): the most connections it accepts from one address.
	MaxConnsPerClient int
}

// Discover asks the agent named by opts what it is, through a client of its
// own that it closes. Pass the answer as [Options.Agent] to [New].
func Discover(ctx context.Context, opts Options) (Agent, error) {
	opts.Agent = nil
	c, err := New(opts)
	if err != nil {
		return Agent{}, err
	}
	defer c.Close()
	return c.readSelf(ctx)
}

// connBudget is the plain-HTTP connection budget for an agent: the
// configured one, else, through a client agent whose connection limit is
// known, that limit less a margin for the host's other clients, so that
// ctpl can hold one streamed long poll per health query, as
// consul-template does, where the operator raised the limit; else
// DefaultMaxConns.
func connBudget(configured int, a *Agent) int {
	switch {
	case configured > 0:
		return configured
	case a != nil && a.Known && !a.Server && a.MaxConnsPerClient > 0:
		return a.MaxConnsPerClient - max(16, a.MaxConnsPerClient/8)
	}
	return DefaultMaxConns
}

// String describes the agent in a few words, for the start-up log.
func (a Agent) String() string {
	switch {
	case !a.Known:
		return "unknown agent (cannot read /v1/agent/self): assuming a client agent"
	case a.Server:
		return "server"
	case a.Streaming:
		return "client agent with streaming"
	}
	return "client agent without streaming (agent cache)"
}

// readSelf reads /v1/agent/self.
func (c *Client) readSelf(ctx context.Context) (Agent, error) {
	var self struct {
		Config struct {
			Server                        bool
			NodeName, Datacenter, Version string
		}
		DebugConfig struct {
			UseStreamingBackend   bool
			HTTPMaxConnsPerClient int
		}
	}
	if _, err := c.api.Raw().Query("/v1/agent/self", &self, new(api.QueryOptions).WithContext(ctx)); err != nil {
		return Agent{}, fmt.Errorf("agent self: %w", err)
	}
	return Agent{Known: true, Server: self.Config.Server, Streaming: self.DebugConfig.UseStreamingBackend,
		Node: self.Config.NodeName, Datacenter: self.Config.Datacenter, Version: self.Config.Version,
		MaxConnsPerClient: self.DebugConfig.HTTPMaxConnsPerClient}, nil
}

// fromView reports whether spec's reads ask for the agent's view: through a
// client agent, for health queries of the local datacenter the view serves
// (not sorted by ?near, which Consul answers from the servers).
func (c *Client) fromView(spec watch.Spec) bool {
	return c.viaClientAgent && spec.Near == "" && spec.DC == "" &&
		(spec.Kind == watch.KindHealthService || spec.Kind == watch.KindHealthConnect)
}

// pastView reports whether a health read of spec must say so to stay out
// of the agent's streamed view, which serves every blocking health read
// (index > 0) by default: reads of another datacenter. That datacenter's
// events reach the view through the local servers over the WAN, and a view
// does not notice the datacenter's indexes starting again (a server rebuilt
// from nothing): measured, it kept serving the old instances for more than
// 30 s after the new ones were registered. Consul reads from the servers a
// request with ?merge-central-config, which changes nothing in the answer
// but the proxy configuration of sidecars and gateways, merged with their
// central defaults (ctpl's records hold no proxy configuration).
func pastView(spec watch.Spec) bool {
	return spec.DC != "" && (spec.Kind == watch.KindHealthService || spec.Kind == watch.KindHealthConnect)
}

type bypassKey struct{}

// withoutView makes the reads under ctx go to the servers, past the
// agent's view: for a follower whose view did not show, within viewWait,
// a change a detector saw (the view's event stream lags).
func withoutView(ctx context.Context) context.Context {
	return context.WithValue(ctx, bypassKey{}, true)
}

func bypassView(ctx context.Context) bool {
	b, _ := ctx.Value(bypassKey{}).(bool)
	return b
}
