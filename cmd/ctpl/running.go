package main

import (
	"cmp"
	"os"
	"strings"
	"sync"

	"github.com/ctpl/ctpl/renderer"
)

// runningAttrs are the attributes of the "ctpl running" line: what runs,
// against which Consul, from which files.
func (a *app) runningAttrs(agent *renderer.Agent) []any {
	addr := cmp.Or(a.cfg.Consul.Address, os.Getenv("CONSUL_HTTP_ADDR"), "127.0.0.1:8500")
	configs := strings.Join(a.fl.configs, ",")
	if configs == "" {
		configs = "-"
	}
	attrs := []any{"version", version, "consul", addr, "config", configs,
		"templates", len(agent.Status().Templates)}
	if t := a.topology; t != nil {
		attrs = append(attrs, "topology", t.String(), "datacenter", cmp.Or(t.Datacenter, "?"))
	}
	if a.cfg.MetricsAddr != "" {
		attrs = append(attrs, "metrics_addr", a.cfg.MetricsAddr)
	}
	if a.cfg.StateDir != "" {
		attrs = append(attrs, "state_dir", a.cfg.StateDir)
	}
	return attrs
}

// finish stops what the daemon started and waits for all of it, the exec
// child included, before it says ctpl stopped.
func (a *app) finish(cancel func(), wg *sync.WaitGroup, code int) int {
	cancel()
	wg.Wait()
	a.log.Info("ctpl stopped", "exit_code", code)
	return code
}
