package main

import (
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

// freshness adapts the watcher's query states for telemetry.
func freshness(w *watch.Watcher) func() map[string]telemetry.Query {
	return func() map[string]telemetry.Query {
		states := w.Freshness()
		out := make(map[string]telemetry.Query, len(states))
		for key, s := range states {
			q := telemetry.Query{LastOK: s.LastOK, ErrSince: s.ErrSince, Warning: s.Warning}
			if s.Err != nil {
				q.Err = s.Err.Error()
			}
			out[key] = q
		}
		return out
	}
}
