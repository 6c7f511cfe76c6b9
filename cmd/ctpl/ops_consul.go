package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/ctpl/ctpl/telemetry"
	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul"
)

// consulRequest is the Consul client's request observer.
func (o *ops) consulRequest(ri consul.RequestInfo) {
	if o.metrics != nil {
		o.metrics.ConsulRequest(ri.Endpoint, ri.Code, ri.Duration, ri.Err)
	}
}

// freshness adapts the watcher's query states for telemetry; localDC is
// the agent's datacenter (empty when unknown).
func freshness(w *watch.Watcher, localDC string) func() map[string]telemetry.Query {
	return func() map[string]telemetry.Query { return queryStates(w.Freshness(), localDC) }
}

// queryStates converts query states for telemetry. A query naming the
// agent's own datacenter (`service "web@dc1"` through a dc1 agent) reads
// local data: it is reported as the agent's own (DC ""), so that
// ready_ignore's "@*" never ignores it and its age counts with the local
// datacenter's.
func queryStates(states map[string]watch.QueryState, localDC string) map[string]telemetry.Query {
	out := make(map[string]telemetry.Query, len(states))
	for key, s := range states {
		q := telemetry.Query{LastOK: s.LastOK, ErrSince: s.ErrSince, Warning: s.Warning, DC: s.DC}
		if localDC != "" && s.DC == localDC {
			q.DC = ""
		}
		if s.Err != nil {
			q.Err = s.Err.Error()
		}
		out[key] = q
	}
	return out
}

// discoverAgent asks the agent what it is, so that reads through a client
// agent ride its streamed views and the connection budget follows its
// limit, and says so. An agent that cannot tell is taken for a client
// agent, as in production.
func discoverAgent(ctx context.Context, opts consul.Options, log *slog.Logger) *consul.Agent {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a, err := consul.Discover(ctx, opts)
	if err != nil {
		log.Warn("cannot tell what kind of Consul agent this is; reading as through a client agent", "error", err)
		return &a
	}
	log.Info("consul agent", "kind", a.String(), "node", a.Node, "datacenter", a.Datacenter, "version", a.Version,
		"max_conns_per_client", a.MaxConnsPerClient)
	return &a
}
