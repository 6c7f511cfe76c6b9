package consul

import (
	"context"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"
)

// summary is what Consul's UI service listing says of one service: enough
// to tell that an instance was added or removed, not that one changed.
type summary struct {
	instances, passing, warning, critical int
	nodes, tags                           string
}

// uiService is one element of /v1/internal/ui/services.
type uiService struct {
	Name           string
	Kind           string
	Tags           []string
	Nodes          []string
	InstanceCount  int
	ChecksPassing  int
	ChecksWarning  int
	ChecksCritical int
	PeerName       string
}

// summaries reads the service listing of the UI endpoint. It is a hint
// used to name services early, never a proof: nil when it cannot be read.
func (c *Client) summaries(ctx context.Context) map[string]summary {
	list, err := onSlotAs(ctx, c.budget.short, true, nil, func(sctx context.Context) ([]uiService, error) {
		var out []uiService
		_, err := c.api.Raw().Query("/v1/internal/ui/services", &out, (&api.QueryOptions{}).WithContext(sctx))
		return out, err
	})
	if err != nil {
		c.log.Debug("cannot read the UI service listing; changes go unnamed", "error", err)
		return nil
	}
	out := make(map[string]summary, len(list))
	for _, s := range list {
		if s.PeerName != "" {
			continue
		}
		out[s.Name] = summary{
			instances: s.InstanceCount, passing: s.ChecksPassing, warning: s.ChecksWarning, critical: s.ChecksCritical,
			nodes: strings.Join(slices.Sorted(slices.Values(s.Nodes)), ","), tags: strings.Join(slices.Sorted(slices.Values(s.Tags)), ","),
		}
	}
	return out
}

// changedSummaries returns the services whose summary differs.
func changedSummaries(prev, cur map[string]summary) []string {
	if prev == nil || cur == nil {
		return nil
	}
	var names []string
	for name := range union(prev, cur) {
		a, inA := prev[name]
		b, inB := cur[name]
		if !inA || !inB || a != b {
			names = append(names, name)
		}
	}
	return names
}
