package consul

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
)

// ACL-filtered answers are the token's view of the registry, as Consul
// defines it: a list answer holds the entries the token may read and carries
// X-Consul-Results-Filtered-By-ACLs. They are results, never errors (the
// renderer's on_empty and max_shrink hold a set that shrinks because a token
// lost a permission). A result filtered down to nothing carries a warning
// that names the rule the token probably lacks.

// ErrACLNotFound is returned when Consul does not know the token: it was
// revoked, it expired, or it is mistyped.
var ErrACLNotFound = errors.New("consul does not know the ACL token (revoked, expired or mistyped)")

// ErrPermissionDenied is returned when the token may not read what a query
// asks for.
var ErrPermissionDenied = errors.New("permission denied by ACLs")

// result builds a query's result from its value and answer.
func (c *Client) result(spec watch.Spec, value any, a answer) watch.Result {
	return watch.Result{Value: value, Index: a.index, Warning: filteredWarning(spec, a, value), Filtered: a.filtered}
}

// filteredWarning returns the warning for an answer that ACLs filtered
// down to nothing, or "".
func filteredWarning(spec watch.Spec, a answer, value any) string {
	if !a.filtered || !isEmpty(value) {
		return ""
	}
	return "Consul's ACLs filtered out every result; the token probably lacks " + aclRule(spec)
}

// isEmpty reports whether a query's value holds nothing.
func isEmpty(v any) bool {
	switch v := v.(type) {
	case []*watch.HealthService:
		return len(v) == 0
	case []*watch.CatalogService:
		return len(v) == 0
	case []*watch.Node:
		return len(v) == 0
	case *watch.NodeServices:
		return v == nil || len(v.Services) == 0
	case []*watch.KeyPair:
		return len(v) == 0
	case watch.KVValue:
		return !v.Exists
	case *watch.PreparedQuery:
		return v == nil || len(v.Nodes) == 0
	}
	return false
}

// aclRule names, in Consul's policy syntax, the rule a token needs to read
// what spec asks for.
func aclRule(spec watch.Spec) string {
	read := func(resource, name string) string {
		return fmt.Sprintf(`%s %q { policy = "read" }`, resource, name)
	}
	switch spec.Kind {
	case watch.KindHealthService, watch.KindHealthConnect:
		return read("service", spec.Name) + " (and node read on the instances' nodes)"
	case watch.KindCatalogServices:
		return read("service_prefix", "")
	case watch.KindCatalogNodes:
		return read("node_prefix", "")
	case watch.KindCatalogNode:
		if spec.Name == "" {
			return read("node", "<this agent's node>")
		}
		return read("node", spec.Name)
	case watch.KindKVGet:
		return read("key", spec.Name)
	case watch.KindKVList:
		return read("key_prefix", spec.Name)
	case watch.KindPreparedQuery:
		return "service read on the prepared query's service (and node read on its nodes) in the datacenters it answers from; " +
			"executing needs no query rule"
	case watch.KindCARoots, watch.KindCALeaf:
		return read("service", spec.Name) + " (write, for a leaf certificate)"
	}
	return "read access to " + string(spec.Kind)
}

// aclError explains a 403: Consul does not know the token, or the token
// may not read what spec asks for. Other errors are returned as they are.
func aclError(spec watch.Spec, err error) error {
	var se api.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden {
		return err
	}
	if strings.Contains(se.Body, "ACL not found") {
		return fmt.Errorf("%w: %w", ErrACLNotFound, err)
	}
	return fmt.Errorf("%w (the token probably lacks %s): %w", ErrPermissionDenied, aclRule(spec), err)
}

// emptyView remembers, for a health query served from the agent's view,
// whether its answer is empty because ACLs filtered it. A streamed answer
// does not carry X-Consul-Results-Filtered-By-ACLs, so when the view's
// answer turns empty one plain read asks a server; the answer holds while
// the view stays empty.
type emptyView struct {
	mu      sync.Mutex
	checked bool // the current run of empty answers was asked about
	hidden  bool // and the servers said ACLs filtered it
}

// filtered reports whether an answer with n records, from the view, was
// filtered by ACLs; ask reads the header from a server.
func (e *emptyView) filtered(n int, ask func() bool) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if n > 0 {
		e.checked, e.hidden = false, false
		return false
	}
	if !e.checked {
		e.checked, e.hidden = true, ask()
	}
	return e.hidden
}

// askFiltered reads path from the servers, bypassing the agent's view, and
// reports whether the answer was filtered by ACLs.
func (c *Client) askFiltered(ctx context.Context, spec watch.Spec, path string, extra func(url.Values)) bool {
	o := c.options(ctx, spec, watch.FetchOptions{})
	o.UseCache = false
	params := c.raw.params(o)
	extra(params)
	buf := getBuffer()
	defer putBuffer(buf)
	meta, _, err := c.raw.get(o, path, params, buf)
	return err == nil && meta.ResultsFilteredByACLs
}
