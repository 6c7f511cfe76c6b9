package consul

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul/internal/decode"
	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// DefaultPreparedQueryInterval is how often a prepared query is executed
// unless Options.PreparedQueryInterval says otherwise.
const DefaultPreparedQueryInterval = 5 * time.Second

// preparedQuery executes a prepared query (GET /v1/query/:name/execute,
// with ?dc= and ?near= from the spec). The instances are decoded, screened
// and sorted as a health answer's are (decode.Health over the answer's
// Nodes); the Datacenter and Failovers fields say which datacenter answered.
// Every execution is a plain read: the endpoint does not block, so each
// result carries the index after the request's (the watcher then tells a
// change by comparing values) and polled spaces the executions.
func (c *Client) preparedQuery(spec watch.Spec) watch.QueryFunc {
	path := "/v1/query/" + url.PathEscape(spec.Name) + "/execute"
	var (
		mu      sync.Mutex
		entries decode.Entries         // the last answer's records, by entry
		last    []*watch.HealthService // the last answer's instances, in its order
	)
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		var out struct {
			Service    string
			Datacenter string
			Failovers  int
			Nodes      json.RawMessage
		}
		o := c.options(ctx, spec, watch.FetchOptions{})
		meta, err := c.api.Raw().Query(path, &out, o)
		if err == nil && o.AllowStale && stale(meta, c.maxStale) {
			o.AllowStale = false
			meta, err = c.api.Raw().Query(path, &out, o)
		}
		if err != nil {
			return watch.Result{}, fmt.Errorf("prepared query %q: %w", spec.Name, refusedError(spec, aclError(spec, err)))
		}
		body := []byte(out.Nodes)
		if len(bytes.TrimSpace(body)) == 0 || bytes.Equal(bytes.TrimSpace(body), []byte("null")) {
			body = []byte("[]")
		}
		mu.Lock()
		nodes, err := c.healthRecords(spec, true, body, &entries)
		if err == nil && spec.Near != "" {
			nodes = keepOrder(last, nodes)
			last = nodes
		}
		mu.Unlock()
		if err != nil {
			return watch.Result{}, fmt.Errorf("prepared query %q: %w", spec.Name, err)
		}
		sc := c.screen(spec)
		pq := &watch.PreparedQuery{Failovers: out.Failovers, Nodes: nodes}
		if sc.OK("service", out.Service) {
			pq.Service = out.Service
		}
		if sc.OK("datacenter", out.Datacenter) {
			pq.Datacenter = out.Datacenter
		}
		if sc.Err != nil {
			return watch.Result{}, fmt.Errorf("prepared query %q: %w", spec.Name, sc.Err)
		}
		a := answer{index: fo.Index + 1, filtered: meta.ResultsFilteredByACLs}
		return c.result(spec, pq, a), nil
	}
}

// polled runs a prepared query's executions: the first at once, each later
// one after the poll interval (shortened by up to a fifth at random, so
// that many queries do not execute in step and an answer is never older
// than the interval), on a plain-read slot with the request's deadline.
func (c *Client) polled(inner watch.QueryFunc) watch.QueryFunc {
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		if fo.Index > 0 {
			d := c.pollEvery - rand.N(c.pollEvery/5+1)
			if err := watch.Sleep(ctx, d); err != nil {
				return watch.Result{}, err
			}
		}
		return gate.Run(ctx, c.budget.Short, func(sctx context.Context) (watch.Result, error) {
			return bounded(inner, fo.Timeout)(sctx, fo)
		})
	}
}

// keepOrder returns last when now holds the same instances in another
// order, else now. With ?near=, Consul sorts a prepared query's instances
// by round-trip time after shuffling them, so instances whose nodes have no
// network coordinates (every node registered through the catalog, every
// instance of a datacenter failed over to) come back in a new order at each
// execution: without this, each poll would render and reload. The order
// is thus Consul's as of the last change of the instances.
func keepOrder(last, now []*watch.HealthService) []*watch.HealthService {
	if len(last) != len(now) {
		return now
	}
	x, y := slices.Clone(last), slices.Clone(now)
	watch.SortHealthServices(x)
	watch.SortHealthServices(y)
	if !reflect.DeepEqual(x, y) {
		return now
	}
	return last
}

// filterRefusal matches Consul's answers refusing a filter expression: from
// the servers "Failed to create boolean expression evaluator: …"; through
// an agent's streamed view only the parser's message (a position such as
// "1:27 (26): …", an invalid selector, a value that does not fit its
// field, an operator its field does not take).
var filterRefusal = regexp.MustCompile(`Failed to create boolean expression evaluator|` +
	`^"?\d+:\d+ \(\d+\): |Selector .+ is not valid|Failed to coerce value|Invalid match operator`)

// refusedError marks with watch.ErrRefused the answers by which Consul says
// the query itself is wrong, so that the watcher backs off instead of
// retrying as from an outage: a prepared query it does not know (404), a
// filter expression it cannot use (400, or 500 as Consul 1.14 answers).
func refusedError(spec watch.Spec, err error) error {
	se, ok := errors.AsType[api.StatusError](err)
	switch {
	case !ok:
		return err
	case spec.Kind == watch.KindPreparedQuery && se.Code == http.StatusNotFound:
		return fmt.Errorf("%w: no prepared query %q: %w", watch.ErrRefused, spec.Name, err)
	case spec.Filter != "" && (se.Code == http.StatusBadRequest ||
		se.Code == http.StatusInternalServerError && filterRefusal.MatchString(se.Body)):
		return fmt.Errorf("%w: Consul cannot use filter %q: %w", watch.ErrRefused, spec.Filter, err)
	}
	return err
}
