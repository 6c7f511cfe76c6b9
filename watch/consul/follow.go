package consul

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/ctpl/ctpl/watch"
	"github.com/ctpl/ctpl/watch/consul/internal/detect"
	"github.com/ctpl/ctpl/watch/consul/internal/gate"
)

// followable reports whether a query can follow the change detectors
// instead of holding a long poll: health queries of the local datacenter's
// default namespace, which the detectors see every change of.
func followable(spec watch.Spec) bool {
	return spec.Kind == watch.KindHealthService && spec.DC == "" && spec.Peer == "" &&
		spec.Namespace == "" && spec.Partition == "" && spec.SamenessGroup == ""
}

// gated wraps a query so it keeps within the client's budget. A first read
// takes a plain-read slot. A blocking request takes a long-poll slot; when
// none is free beyond the gate's headroom, which it leaves to queries that
// cannot follow, a followable query follows the change detectors instead,
// and any other query waits for a slot. A long poll preempted because the
// budget shrank (Consul answered 429) is asked again.
func (c *Client) gated(spec watch.Spec, inner watch.QueryFunc) watch.QueryFunc {
	key, follow := spec.String(), followable(spec)
	// From a server, the detectors start early, so their baselines are
	// taken by the time the first query follows them. Through a client
	// agent they start only when one must follow: every detector wake is a
	// server RPC, which a query holding a streamed long poll does not need.
	if follow && c.followable.Add(1) > int64(c.budget.Long.Limit()/2) && !c.viaClientAgent {
		c.startDetectors()
	}
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		// Wait for slots on the query's context; the request's deadline
		// bounds the sending alone.
		inner := bounded(inner, fo.Timeout)
		if fo.Index == 0 {
			return gate.Run(ctx, c.budget.Short, func(sctx context.Context) (watch.Result, error) {
				if follow {
					c.track.Record(key, spec.Name)
				}
				return inner(sctx, fo)
			})
		}
		for {
			var (
				lctx context.Context
				h    *gate.Hold
				err  error
			)
			if follow {
				var ok bool
				if lctx, h, ok = c.budget.Long.TryAcquire(ctx); !ok {
					c.startDetectors()
					c.count.followers.Add(1)
					return c.follow(ctx, spec, fo, inner)
				}
				c.track.Record(key, spec.Name)
			} else if lctx, h, err = c.budget.Long.Acquire(ctx); err != nil {
				return watch.Result{}, err
			}
			res, err := inner(lctx, fo)
			if c.budget.Long.Release(h) && ctx.Err() == nil {
				c.count.preemptions.Add(1)
				continue // preempted by a smaller budget: ask again
			}
			return res, err
		}
	}
}

// bounded applies a deadline of timeout (0: none) to every call of q.
func bounded(q watch.QueryFunc, timeout time.Duration) watch.QueryFunc {
	if timeout <= 0 {
		return q
	}
	return func(ctx context.Context, fo watch.FetchOptions) (watch.Result, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return q(ctx, fo)
	}
}

// follow answers a blocking request without holding a connection: it waits
// until a change detector says the query's service changed (or could have),
// then reads it afresh, and returns once the index moved or the wait ends.
func (c *Client) follow(ctx context.Context, spec watch.Spec, fo watch.FetchOptions, inner watch.QueryFunc) (watch.Result, error) {
	res, changed, err := detect.Follow(ctx, c.track, spec.String(), spec.Name, fo.Wait,
		func(probe bool, named <-chan struct{}) (watch.Result, bool, error) {
			return c.reread(ctx, spec, fo.Index, probe, named, inner)
		})
	if err == nil && !changed {
		return watch.Result{Index: fo.Index}, nil // no change within the wait
	}
	if hs, ok := res.Value.([]*watch.HealthService); ok && err == nil {
		c.track.SawInstances(spec.Name, hs)
	}
	return res, err
}

// reread reads a follower afresh on a plain-read slot. After an
// unattributed change it first probes the service's index with a filter
// that matches nothing, and reads the data only when the index moved.
func (c *Client) reread(ctx context.Context, spec watch.Spec, index uint64, probe bool, named <-chan struct{}, inner watch.QueryFunc) (watch.Result, bool, error) {
	type answer struct {
		res     watch.Result
		changed bool
	}
	// A re-read of a service the detectors named goes before the probes of
	// a sweep; a probe still queued when its service is named gives way.
	var abort <-chan struct{}
	if probe {
		abort = named
	}
	a, err := gate.RunAs(ctx, c.budget.Short, !probe, abort, func(sctx context.Context) (answer, error) {
		c.track.Record(spec.String(), spec.Name)
		if probe {
			c.count.probes.Add(1)
			if idx, err := c.probe(sctx, spec); err == nil && idx == index {
				c.count.probeHits.Add(1)
				return answer{}, nil
			}
		}
		c.count.rereads.Add(1)
		if !c.fromView(spec) || index == 0 {
			res, err := inner(sctx, watch.FetchOptions{})
			return answer{res, err == nil && res.Index != index}, err
		}
		// Wait on the view until it holds the change; a view that has not
		// seen it within viewWait lags, and the servers answer instead.
		res, err := inner(sctx, watch.FetchOptions{Index: index, Wait: viewWait})
		if err == nil && res.Index == index {
			c.count.viewLags.Add(1)
			res, err = inner(withoutView(sctx), watch.FetchOptions{})
		}
		return answer{res, err == nil && res.Index != index}, err
	})
	return a.res, a.changed, err
}

// probe returns the index of a health query without its data: the
// catalog's answer for the service carries the same per-service index and
// costs Consul less, and a filter that matches no instance leaves the body
// empty.
func (c *Client) probe(ctx context.Context, spec watch.Spec) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, detect.ProbeTimeout)
	defer cancel()
	q := (&api.QueryOptions{Filter: "ServiceName != " + strconv.Quote(spec.Name)}).WithContext(ctx)
	_, meta, err := c.api.Catalog().Service(spec.Name, spec.Tag, q)
	if err != nil {
		return 0, fmt.Errorf("probe %s: %w", spec.Name, err)
	}
	return meta.LastIndex, nil
}
