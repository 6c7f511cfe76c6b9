package consultest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// prometheusHCL keeps metrics in the agent's Prometheus sink, which
// /v1/agent/metrics?format=prometheus reads; every agent of a cluster gets
// it.
const prometheusHCL = `telemetry { prometheus_retention_time = "1h" }`

// Metrics reads the agent's own telemetry in Prometheus text format (GET
// /v1/agent/metrics?format=prometheus, which needs agent:read, as the
// management token has) and returns every sample by its metric name as
// Prometheus spells it, values that differ only by labels summed:
//
//   - a counter is its total since the agent started, e.g.
//     "consul_rpc_request";
//   - a gauge is its current value, e.g. "consul_rpc_queries_blocking";
//   - a summary (a timer or sample) is "<name>_sum" and "<name>_count",
//     e.g. "consul_fsm_kvs_count"; its quantiles are left out.
//
// Names measured with Consul 1.14.8: a server counts each RPC it serves in
// consul_rpc_request (client agents' RPCs and other servers' forwards),
// each blocking query in consul_rpc_query, and holds the blocking queries
// in flight in the gauge consul_rpc_queries_blocking; a client agent
// counts the RPCs it makes in consul_client_rpc. Consul declares most of
// its metrics up front, so a name is usually present, as 0, before any
// activity.
//
// Metrics does not read the JSON form of the endpoint: in Consul 1.14.8 it
// answers 500 "json: unsupported value: NaN" whenever a sample's standard
// deviation rounds to the root of a negative number, which a server shows
// for whole 10 s intervals (hashicorp/consul#15061), and its counters cover
// one such interval only. Agents of a [Cluster] keep Prometheus metrics; a
// dev agent needs [WithHCL](`telemetry { prometheus_retention_time = "1h" }`).
func (a *Agent) Metrics(t TB) map[string]float64 {
	t.Helper()
	const path = "/v1/agent/metrics?format=prometheus"
	resp := a.call(t, http.MethodGet, path, nil)
	if len(resp.body) == 0 {
		t.Fatalf("consultest: GET %s: empty answer: agent %s keeps no Prometheus metrics; start it with WithHCL(%q)",
			path, a.node, prometheusHCL)
	}
	m, err := parseExposition(string(resp.body))
	if err != nil {
		t.Fatalf("consultest: GET %s: %v", path, err)
	}
	return m
}

// parseExposition sums the samples of a Prometheus text exposition by
// metric name, leaving out summary quantiles and histogram buckets.
func parseExposition(text string) (map[string]float64, error) {
	out := make(map[string]float64)
	n := 0
	for line := range strings.Lines(text) {
		n++
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, labels, rest, err := splitSample(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if hasLabel(labels, "quantile") || hasLabel(labels, "le") {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			return nil, fmt.Errorf("line %d: %s has no value", n, name)
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		out[name] += v
	}
	return out, nil
}

// splitSample splits a sample line into its metric name, its label set
// (without braces) and what follows (value and optional timestamp).
func splitSample(line string) (name, labels, rest string, err error) {
	i := strings.IndexAny(line, "{ \t")
	if i < 0 {
		return "", "", "", fmt.Errorf("sample %q has no value", line)
	}
	name = line[:i]
	if line[i] != '{' {
		return name, "", line[i:], nil
	}
	quoted := false
	for j := i + 1; j < len(line); j++ {
		switch c := line[j]; {
		case quoted && c == '\\':
			j++ // skip the escaped character
		case c == '"':
			quoted = !quoted
		case !quoted && c == '}':
			return name, line[i+1 : j], line[j+1:], nil
		}
	}
	return "", "", "", errors.New("unterminated label set")
}

// hasLabel reports whether a label set (as splitSample returns it) has a
// label called name.
func hasLabel(labels, name string) bool {
	return strings.HasPrefix(labels, name+"=") || strings.Contains(labels, ","+name+"=")
}
